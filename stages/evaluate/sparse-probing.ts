import { contentKey, ContentMemo } from '../../lib/core/memo.js';
import { csrMatrix, denseMatrix, type CsrData, type DesignMatrix } from './design-matrix.js';
import { accuracyOf, fitSklearnLogistic } from './logistic-regression.js';
import type { PooledActivations } from './pooling.js';
import { sampleWithoutReplacement, shuffled, type Rng } from './random.js';

/**
 * SAEBench sparse probing on pooled activations. For every class of a task, one-vs-rest:
 * positives are the class's pool, negatives are drawn evenly from the other classes' pools up to
 * the positives' count (SAEBench `prepare_probe_data`); the top-k features by
 * |mean_pos - mean_neg| on the train set feed an L2 logistic regression (C = 1, as sklearn
 * lbfgs); the metric is test accuracy. The same sampled rows serve the residual probe and every
 * SAE's probe. Accuracies are averaged over classes, then over tasks.
 */
export interface SparseProbingOptions {
  kValues: number[];
  /** Also probe all residual dimensions (llm_test_accuracy). */
  fullLlmProbe: boolean;
  /** Also probe all SAE latents (sae_test_accuracy); slow for wide SAEs. */
  fullSaeProbe: boolean;
}

/** Accuracy keys as SAEBench names them: llm_test_accuracy, llm_top_1_test_accuracy, sae_top_5_test_accuracy, ... */
export type AccuracyRecord = Record<string, number>;

export interface TaskProbeResult {
  dataset_name: string;
  classes: string[];
  /** Averages over classes: the residual's keys and, per SAE, that SAE's keys. */
  llm: AccuracyRecord;
  sae: AccuracyRecord[];
  /** Per class label, the same keys and the size of its one-vs-rest test set (binomial errors). */
  perClass: Record<string, { llm: AccuracyRecord; sae: AccuracyRecord[]; testExamples: number }>;
  /** Texts in the task's train / test pools. */
  trainTexts: number;
  testTexts: number;
  /** Departures from the requested sizes (probe-datasets.ts). */
  deviations: string[];
}

/** Rows of the split belonging to each class: pools are stored class after class. */
export function classRowRanges(counts: readonly number[]): number[][] {
  let start = 0;
  return counts.map((n) => {
    const rows = Array.from({ length: n }, (_, i) => start + i);
    start += n;
    return rows;
  });
}

/** Positive rows of class c and as many negatives drawn evenly from the other classes. */
export function sampleOneVsRest(pools: number[][], c: number, rng: Rng): { pos: number[]; neg: number[] } {
  const pos = pools[c];
  const others = pools.filter((_, i) => i !== c);
  const perClass = Math.ceil(pos.length / Math.max(others.length, 1));
  const candidates = others.flatMap((rows) => sampleWithoutReplacement(rows, perClass, rng));
  return { pos, neg: shuffled(candidates, rng).slice(0, pos.length) };
}

/** A pooled feature matrix (dense residuals or CSR latents) restricted to chosen rows. */
interface Features {
  cols: number;
  columnMeans(rows: readonly number[]): Float64Array;
  /** Dense [rows.length, columns.length]. */
  gather(rows: readonly number[], columns: readonly number[] | null): DesignMatrix;
}

export function denseFeatures(values: Float32Array, cols: number): Features {
  return {
    cols,
    columnMeans(rows) {
      const out = new Float64Array(cols);
      for (const r of rows) for (let j = 0; j < cols; j++) out[j] += values[r * cols + j];
      return out.map((v) => v / Math.max(rows.length, 1));
    },
    gather(rows, columns) {
      const width = columns ? columns.length : cols;
      const out = new Float32Array(rows.length * width);
      rows.forEach((r, i) => {
        if (columns) columns.forEach((c, k) => (out[i * width + k] = values[r * cols + c]));
        else out.set(values.subarray(r * cols, (r + 1) * cols), i * width);
      });
      return denseMatrix(out, rows.length, width);
    },
  };
}

export function csrFeatures(csr: CsrData): Features {
  const { cols, indptr, indices, data } = csr;
  return {
    cols,
    columnMeans(rows) {
      const out = new Float64Array(cols);
      for (const r of rows) for (let p = indptr[r]; p < indptr[r + 1]; p++) out[indices[p]] += data[p];
      return out.map((v) => v / Math.max(rows.length, 1));
    },
    gather(rows, columns) {
      if (!columns) {
        const sub = { rows: rows.length, cols, indptr: new Int32Array(rows.length + 1), indices: [] as number[], data: [] as number[] };
        rows.forEach((r, i) => {
          for (let p = indptr[r]; p < indptr[r + 1]; p++) sub.indices.push(indices[p]), sub.data.push(data[p]);
          sub.indptr[i + 1] = sub.indices.length;
        });
        return csrMatrix({ ...sub, indices: Int32Array.from(sub.indices), data: Float32Array.from(sub.data) });
      }
      const position = new Map(columns.map((c, k) => [c, k]));
      const out = new Float32Array(rows.length * columns.length);
      rows.forEach((r, i) => {
        for (let p = indptr[r]; p < indptr[r + 1]; p++) {
          const k = position.get(indices[p]);
          if (k !== undefined) out[i * columns.length + k] = data[p];
        }
      });
      return denseMatrix(out, rows.length, columns.length);
    },
  };
}

/** The k columns with the largest |mean_pos - mean_neg| (ties: lower index first). */
export function topKMeanDifference(features: Features, pos: readonly number[], neg: readonly number[], k: number): number[] {
  const a = features.columnMeans(pos);
  const b = features.columnMeans(neg);
  const order = Array.from({ length: features.cols }, (_, j) => j);
  order.sort((i, j) => Math.abs(a[j] - b[j]) - Math.abs(a[i] - b[i]) || i - j);
  return order.slice(0, Math.min(k, features.cols));
}

/** Accuracies of one one-vs-rest probe on one feature matrix, SAEBench keys with `prefix`. */
export function probeOneVsRest(
  train: Features,
  test: Features,
  rows: { train: { pos: number[]; neg: number[] }; test: { pos: number[]; neg: number[] } },
  prefix: 'llm' | 'sae',
  options: { kValues: number[]; full: boolean },
): AccuracyRecord {
  const trainRows = [...rows.train.pos, ...rows.train.neg];
  const testRows = [...rows.test.pos, ...rows.test.neg];
  const yTrain = Uint8Array.from(trainRows, (_, i) => (i < rows.train.pos.length ? 1 : 0));
  const yTest = Uint8Array.from(testRows, (_, i) => (i < rows.test.pos.length ? 1 : 0));
  const out: AccuracyRecord = {};
  const fit = (columns: number[] | null) => {
    const model = fitSklearnLogistic(train.gather(trainRows, columns), yTrain, { C: 1 });
    return accuracyOf(model, test.gather(testRows, columns), yTest);
  };
  if (options.full) out[`${prefix}_test_accuracy`] = fit(null);
  for (const k of options.kValues) {
    out[`${prefix}_top_${k}_test_accuracy`] = fit(topKMeanDifference(train, rows.train.pos, rows.train.neg, k));
  }
  return out;
}

/** Residual-probe results by content: every SAE's eval probes the same residuals on the same rows. */
const residualProbeMemo = new ContentMemo<AccuracyRecord>(256);

/** Probes one task on its pooled train / test activations (pools stored class after class). */
export function probeTask(
  task: { task: string; classes: string[]; trainCounts: number[]; testCounts: number[]; deviations?: string[] },
  train: PooledActivations,
  test: PooledActivations,
  dIn: number,
  options: SparseProbingOptions,
  rng: Rng,
): TaskProbeResult {
  const trainPools = classRowRanges(task.trainCounts);
  const testPools = classRowRanges(task.testCounts);
  const llmTrain = denseFeatures(train.residual, dIn);
  const llmTest = denseFeatures(test.residual, dIn);
  const perClass: TaskProbeResult['perClass'] = {};
  task.classes.forEach((label, c) => {
    const rows = { train: sampleOneVsRest(trainPools, c, rng), test: sampleOneVsRest(testPools, c, rng) };
    perClass[label] = {
      llm: residualProbeMemo.getOrCompute(
        contentKey(dIn, train.residual, test.residual, rows.train.pos, rows.train.neg, rows.test.pos, rows.test.neg, options.kValues, options.fullLlmProbe),
        () => probeOneVsRest(llmTrain, llmTest, rows, 'llm', { kValues: options.kValues, full: options.fullLlmProbe }),
      ),
      testExamples: rows.test.pos.length + rows.test.neg.length,
      sae: train.latents.map((csr, s) =>
        probeOneVsRest(csrFeatures(csr), csrFeatures(test.latents[s]), rows, 'sae', { kValues: options.kValues, full: options.fullSaeProbe }),
      ),
    };
  });
  const records = Object.values(perClass);
  return {
    dataset_name: task.task,
    classes: task.classes,
    llm: averageRecords(records.map((r) => r.llm)),
    sae: train.latents.map((_, s) => averageRecords(records.map((r) => r.sae[s]))),
    perClass,
    trainTexts: task.trainCounts.reduce((a, b) => a + b, 0),
    testTexts: task.testCounts.reduce((a, b) => a + b, 0),
    deviations: task.deviations ?? [],
  };
}

/**
 * Binomial standard error of each averaged accuracy: a one-vs-rest test accuracy p on n test
 * examples has variance p(1 - p) / n; the mean over a task's C classes and then over T tasks
 * has variance sum / C^2, then sum / T^2 (test sets treated as independent, which the shared
 * negatives make slightly optimistic).
 * @param pick  the accuracy record of a class (the residual's or an SAE's)
 */
export function binomialStdErrors(tasks: readonly TaskProbeResult[], pick: (c: TaskProbeResult['perClass'][string]) => AccuracyRecord): Record<string, number> {
  const variance: Record<string, number> = {};
  for (const task of tasks) {
    const classes = Object.values(task.perClass);
    for (const c of classes) {
      for (const [key, p] of Object.entries(pick(c))) {
        variance[key] = (variance[key] ?? 0) + (p * (1 - p)) / c.testExamples / (classes.length * classes.length * tasks.length * tasks.length);
      }
    }
  }
  return Object.fromEntries(Object.entries(variance).map(([k, v]) => [k, Math.sqrt(v)]));
}

/** Key-wise mean of accuracy records. */
export function averageRecords(records: readonly AccuracyRecord[]): AccuracyRecord {
  const out: AccuracyRecord = {};
  if (records.length === 0) return out;
  for (const key of Object.keys(records[0])) out[key] = records.reduce((a, r) => a + r[key], 0) / records.length;
  return out;
}
