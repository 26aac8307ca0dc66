/** One benchmark measurement beside its reference, both measured in the same run. */
export interface BenchRecord {
  stage: string;
  case: string;
  metric: string;
  value: number;
  unit: string;
  /** What the value is compared with (a library or a ceiling), or null when nothing fits. */
  reference: string | null;
  referenceValue: number | null;
  /** ours / reference, oriented so that higher is better; null without a reference. */
  ratio: number | null;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The tokenize area's end-to-end case; run.ts compares it with 10x the extraction rate. */
export const TOKENIZE_END_TO_END = 'demo sample: tokenizeShard end to end';

/**
 * Problems of a record: a named reference without a finite value and ratio (the reference did not
 * really run), or a non-finite value. Records whose reference is null by design (a plain
 * measurement beside its ratio record) pass.
 */
export function recordProblems(record: BenchRecord): string[] {
  const problems: string[] = [];
  const what = `${record.stage} / ${record.case} / ${record.metric}`;
  if (!Number.isFinite(record.value)) problems.push(`${what}: value is ${record.value}`);
  if (record.reference !== null) {
    if (record.referenceValue === null || !Number.isFinite(record.referenceValue)) problems.push(`${what}: reference '${record.reference}' has no value`);
    if (record.ratio === null || !Number.isFinite(record.ratio)) problems.push(`${what}: reference '${record.reference}' has no ratio`);
  } else if (record.referenceValue !== null || record.ratio !== null) {
    problems.push(`${what}: a reference value or ratio without a named reference`);
  }
  return problems;
}
