import type { DesignMatrix } from './design-matrix.js';
import { sigmoid, softplus } from './logistic-regression.js';

/**
 * Several binary logistic probes with L1 + L2 penalties on one design matrix, fitted jointly
 * by FISTA (Beck and Teboulle 2009) with backtracking and adaptive restart. Used to rank SAE
 * latents for the absorption eval's k-sparse probes (SAEBench `train_sparse_multi_probe`).
 *
 * Objective, summed over outputs k (Y[i, k] in {0, 1}, weights S[i, k]):
 *   F_k = (1/N) sum_i S_ik [softplus(z_ik) - Y_ik z_ik] + (l2/2)||w_k||^2 + l1 ||w_k||_1
 * Intercepts are not penalised.
 */
export interface L1LogisticOptions {
  l1: number;
  l2: number;
  maxIterations: number;
  /**
   * Stop when the optimality conditions hold to this share of l1: |g_j + l1 sign(w_j)| for
   * nonzero weights and |g_j| - l1 for zero ones (checked every 10 iterations).
   */
  tolerance: number;
}

export const DEFAULT_L1_LOGISTIC: Omit<L1LogisticOptions, 'l1'> = { l2: 0, maxIterations: 500, tolerance: 1e-3 };

export interface MultiLogisticModel {
  /** [cols, outputs] row-major. */
  weights: Float64Array;
  /** [outputs] */
  biases: Float64Array;
  outputs: number;
  iterations: number;
  /** Largest optimality violation at the last check, relative to l1. */
  violation: number;
}

const CHECK_EVERY = 10;

/**
 * @param labels  [rows, outputs] 0/1
 * @param sampleWeights  [rows, outputs]
 */
export function fitL1LogisticMulti(
  X: DesignMatrix,
  labels: Uint8Array,
  sampleWeights: Float64Array,
  outputs: number,
  options: L1LogisticOptions,
): MultiLogisticModel {
  const nw = X.cols * outputs;
  const smooth = createSmoothPart(X, labels, sampleWeights, outputs, options.l2);
  let w: Float64Array = new Float64Array(nw);
  let b: Float64Array = new Float64Array(outputs);
  let yW: Float64Array = w.slice();
  let yB: Float64Array = b.slice();
  let t = 1;
  let step = 1;
  const gW = new Float64Array(nw);
  const gB = new Float64Array(outputs);
  let previous = smooth.value(w, b);
  let violation = Infinity;
  let iterations = 0;
  while (iterations < options.maxIterations) {
    const fy = smooth.valueAndGradient(yW, yB, gW, gB);
    let next: { w: Float64Array; b: Float64Array; f: number };
    // Backtracking: shrink the step until the quadratic model upper-bounds the smooth part.
    for (;;) {
      const nextW = softThreshold(yW, gW, step, options.l1);
      const nextB = yB.map((v, k) => v - step * gB[k]);
      const f = smooth.value(nextW, nextB);
      const bound = fy + linearAndQuadratic(nextW, yW, gW, nextB, yB, gB, step);
      next = { w: nextW, b: nextB, f };
      if (f <= bound + 1e-12 * Math.abs(bound) || step < 1e-12) break;
      step *= 0.5;
    }
    const current = next.f + options.l1 * l1Norm(next.w);
    // Adaptive restart (O'Donoghue and Candes 2015) when the objective goes up.
    const restart = current > previous;
    const tNext = restart ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const momentum = restart ? 0 : (t - 1) / tNext;
    yW = next.w.map((v, i) => v + momentum * (v - w[i]));
    yB = next.b.map((v, k) => v + momentum * (v - b[k]));
    w = next.w;
    b = next.b;
    t = tNext;
    step *= 1.25;
    previous = current;
    iterations++;
    if (iterations % CHECK_EVERY === 0 || iterations === options.maxIterations) {
      violation = optimalityViolation(smooth, w, b, options.l1);
      if (violation <= options.tolerance) break;
    }
  }
  return { weights: w, biases: b, outputs, iterations, violation };
}

/** max over coordinates of the subgradient condition's violation, divided by l1. */
function optimalityViolation(smooth: SmoothPart, w: Float64Array, b: Float64Array, l1: number): number {
  const gW = new Float64Array(w.length);
  const gB = new Float64Array(b.length);
  smooth.valueAndGradient(w, b, gW, gB);
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i] === 0 ? Math.max(0, Math.abs(gW[i]) - l1) : Math.abs(gW[i] + l1 * Math.sign(w[i]));
    worst = Math.max(worst, v);
  }
  for (const g of gB) worst = Math.max(worst, Math.abs(g));
  return l1 > 0 ? worst / l1 : worst;
}

/** The smooth part (weighted logistic loss + L2) of the objective, with its gradient. */
export interface SmoothPart {
  value(w: Float64Array, b: Float64Array): number;
  valueAndGradient(w: Float64Array, b: Float64Array, gW: Float64Array, gB: Float64Array): number;
}

export function createSmoothPart(
  X: DesignMatrix,
  labels: Uint8Array,
  weights: Float64Array,
  outputs: number,
  l2: number,
): SmoothPart {
  const rows = X.rows;
  const z = new Float64Array(rows * outputs);
  const r = new Float64Array(rows * outputs);
  const evaluate = (w: Float64Array, b: Float64Array, withGradient: boolean): number => {
    X.matmat(w, outputs, z);
    let loss = 0;
    for (let i = 0; i < rows * outputs; i++) {
      const zi = z[i] + b[i % outputs];
      loss += weights[i] * (softplus(zi) - labels[i] * zi);
      if (withGradient) r[i] = (weights[i] * (sigmoid(zi) - labels[i])) / rows;
    }
    let penalty = 0;
    for (let i = 0; i < w.length; i++) penalty += w[i] * w[i];
    return loss / rows + 0.5 * l2 * penalty;
  };
  return {
    value: (w, b) => evaluate(w, b, false),
    valueAndGradient(w, b, gW, gB) {
      const f = evaluate(w, b, true);
      X.rmatmat(r, outputs, gW);
      for (let i = 0; i < gW.length; i++) gW[i] += l2 * w[i];
      gB.fill(0);
      for (let i = 0; i < rows * outputs; i++) gB[i % outputs] += r[i];
      return f;
    },
  };
}

function softThreshold(y: Float64Array, g: Float64Array, step: number, l1: number): Float64Array {
  const out = new Float64Array(y.length);
  const threshold = step * l1;
  for (let i = 0; i < y.length; i++) {
    const v = y[i] - step * g[i];
    out[i] = v > threshold ? v - threshold : v < -threshold ? v + threshold : 0;
  }
  return out;
}

function linearAndQuadratic(
  w: Float64Array,
  yW: Float64Array,
  gW: Float64Array,
  b: Float64Array,
  yB: Float64Array,
  gB: Float64Array,
  step: number,
): number {
  let lin = 0;
  let sq = 0;
  for (let i = 0; i < w.length; i++) {
    const d = w[i] - yW[i];
    lin += gW[i] * d;
    sq += d * d;
  }
  for (let k = 0; k < b.length; k++) {
    const d = b[k] - yB[k];
    lin += gB[k] * d;
    sq += d * d;
  }
  return lin + sq / (2 * step);
}

function l1Norm(w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += Math.abs(w[i]);
  return s;
}
