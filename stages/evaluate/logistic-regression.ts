import type { DesignMatrix } from './design-matrix.js';
import { DEFAULT_LBFGS, minimizeLbfgs, type LbfgsOptions, type ValueAndGradient } from './lbfgs.js';

/**
 * Binary logistic regression with an L2 penalty, solved to tight tolerance with L-BFGS.
 *
 * Objective (labels y in {0, 1}, optional sample weights s, intercept b never penalised):
 *   F(w, b) = (1/N) sum_i s_i * [softplus(z_i) - y_i z_i] + (l2/2) ||w||^2,  z_i = x_i . w + b
 * scikit-learn's `LogisticRegression(penalty='l2', C, solver='lbfgs')` minimises
 *   C sum_i s_i loss_i + ||w||^2 / 2,
 * which has the same minimiser when l2 = 1 / (C N): see `sklearnL2`.
 * Columns are standardised inside the solver (an exact reparametrisation: the penalty stays on
 * the original w), so raw residual streams with large norms and offsets still converge fast.
 */
export interface LogisticModel {
  /** [cols] */
  weights: Float64Array;
  bias: number;
  iterations: number;
  converged: boolean;
}

export interface L2LogisticOptions {
  /** Strength of (l2/2)||w||^2 against the mean loss. */
  l2: number;
  /** Per-example weights, [rows]; 1 when absent. */
  sampleWeights?: Float64Array;
  lbfgs?: LbfgsOptions;
}

/** The l2 that reproduces scikit-learn's C on `rows` examples. */
export function sklearnL2(C: number, rows: number): number {
  return 1 / (C * rows);
}

/** scikit-learn's class_weight='balanced': n / (2 n_class) per example. */
export function balancedSampleWeights(y: Uint8Array): Float64Array {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const negatives = y.length - positives;
  const wPos = positives > 0 ? y.length / (2 * positives) : 0;
  const wNeg = negatives > 0 ? y.length / (2 * negatives) : 0;
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] ? wPos : wNeg;
  return out;
}

/** torch BCEWithLogitsLoss(pos_weight = n_neg / n_pos) as per-example weights (SAEBench probes). */
export function positiveClassWeights(y: Uint8Array): Float64Array {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const posWeight = positives > 0 ? (y.length - positives) / positives : 1;
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] ? posWeight : 1;
  return out;
}

export function fitLogisticL2(X: DesignMatrix, y: Uint8Array, options: L2LogisticOptions): LogisticModel {
  const problem = standardisedL2Objective(X, y, options);
  const result = minimizeLbfgs(problem.objective, new Float64Array(X.cols + 1), options.lbfgs ?? DEFAULT_LBFGS);
  return { ...problem.toModel(result.x), iterations: result.iterations, converged: result.converged };
}

/**
 * The L2 objective in standardised coordinates: v[j] = w[j] / scale[j] and a centred intercept
 * v[cols] = b + mean . w, which has the same minimiser (the penalty stays on w).
 * `objective(v, grad)` returns F and writes dF/dv; `toModel(v)` maps back to (w, b).
 */
export function standardisedL2Objective(
  X: DesignMatrix,
  y: Uint8Array,
  options: L2LogisticOptions,
): { objective: ValueAndGradient; toModel: (v: Float64Array) => { weights: Float64Array; bias: number } } {
  const { rows, cols } = X;
  if (y.length !== rows) throw new RangeError(`labels have ${y.length} entries for ${rows} rows`);
  const { mean, scale } = standardisation(X);
  const weights = options.sampleWeights;
  const z = new Float64Array(rows);
  const r = new Float64Array(rows);
  const xtR = new Float64Array(cols);
  const toModel = (v: Float64Array) => {
    const w = new Float64Array(cols);
    let shift = 0;
    for (let j = 0; j < cols; j++) {
      w[j] = v[j] * scale[j];
      shift += mean[j] * w[j];
    }
    return { weights: w, bias: v[cols] - shift };
  };
  const objective = (v: Float64Array, grad: Float64Array): number => {
    const { weights: w, bias } = toModel(v);
    X.matvec(w, z);
    let loss = 0;
    let sumR = 0;
    for (let i = 0; i < rows; i++) {
      const zi = z[i] + bias;
      const si = weights ? weights[i] : 1;
      loss += si * (softplus(zi) - y[i] * zi);
      r[i] = (si * (sigmoid(zi) - y[i])) / rows;
      sumR += r[i];
    }
    X.rmatvec(r, xtR);
    let penalty = 0;
    for (let j = 0; j < cols; j++) {
      penalty += w[j] * w[j];
      grad[j] = scale[j] * (xtR[j] - mean[j] * sumR + options.l2 * w[j]);
    }
    grad[cols] = sumR;
    return loss / rows + 0.5 * options.l2 * penalty;
  };
  return { objective, toModel };
}

/** scikit-learn LogisticRegression(C, class_weight) on X, y. */
export function fitSklearnLogistic(
  X: DesignMatrix,
  y: Uint8Array,
  options: { C?: number; classWeight?: 'balanced' | null; lbfgs?: LbfgsOptions } = {},
): LogisticModel {
  return fitLogisticL2(X, y, {
    l2: sklearnL2(options.C ?? 1, X.rows),
    sampleWeights: options.classWeight === 'balanced' ? balancedSampleWeights(y) : undefined,
    lbfgs: options.lbfgs,
  });
}

/** Decision scores x . w + b, [rows]. */
export function decisionScores(model: { weights: Float64Array; bias: number }, X: DesignMatrix): Float64Array {
  const out = new Float64Array(X.rows);
  X.matvec(model.weights, out);
  for (let i = 0; i < out.length; i++) out[i] += model.bias;
  return out;
}

/** Share of rows where (score > 0) equals the label (sklearn `predict` + `accuracy_score`). */
export function accuracyOf(model: { weights: Float64Array; bias: number }, X: DesignMatrix, y: Uint8Array): number {
  const scores = decisionScores(model, X);
  let correct = 0;
  for (let i = 0; i < scores.length; i++) if ((scores[i] > 0 ? 1 : 0) === y[i]) correct++;
  return scores.length ? correct / scores.length : NaN;
}

/**
 * Column means and inverse standard deviations (1 for constant columns), so the solver works
 * on standardised features; the minimiser in the original coordinates is unchanged.
 */
function standardisation(X: DesignMatrix): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(X.cols);
  X.rmatvec(new Float64Array(X.rows).fill(1 / Math.max(X.rows, 1)), mean);
  const rms = X.columnRms();
  const scale = new Float64Array(X.cols);
  for (let j = 0; j < X.cols; j++) {
    const variance = rms[j] * rms[j] - mean[j] * mean[j];
    scale[j] = variance > 1e-12 * Math.max(rms[j] * rms[j], 1e-30) ? 1 / Math.sqrt(variance) : 1;
  }
  return { mean, scale };
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + exp(z)) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}
