/**
 * Binary classification scores with scikit-learn's conventions: the positive class is 1 and a
 * score with a zero denominator is 0 (`zero_division=0`, sklearn's value after its warning).
 */
export interface BinaryScores {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  truePositives: number;
}

/** Scores of the predictions `scores > threshold` against 0/1 labels. */
export function binaryScores(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0): BinaryScores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = scores[i] > threshold ? 1 : 0;
    const actual = labels[i] ? 1 : 0;
    if (predicted === actual) correct++;
    if (predicted && actual) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
  return { accuracy: labels.length ? correct / labels.length : NaN, precision, recall, f1, truePositives: tp };
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample standard deviation (n - 1), as Python's `statistics.stdev`; NaN below two values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return Math.sqrt(s / (values.length - 1));
}
