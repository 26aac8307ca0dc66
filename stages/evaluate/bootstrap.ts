import { createRng } from './random.js';

/**
 * Seeded nonparametric bootstrap for the error bars of every compared eval number (issue 13).
 *
 * The resampling unit is a prompt (context window) or a contiguous block of prompts, never a
 * token: tokens of one prompt are correlated, so a token bootstrap would understate the error.
 * A metric that is a ratio of sums (pooled explained variance, KL and CE scores) is recomputed
 * from the resampled units' sums, as its definition prescribes (not averaged per unit).
 * Interval: percentile (Efron & Tibshirani 1993, ch. 13) with NumPy's default 'linear'
 * quantile; standard error: the sample std (n - 1) of the replicates.
 */
export interface BootstrapSettings {
  resamples: number;
  seed: number;
  /** Two-sided coverage, e.g. 0.95. */
  level: number;
}

/** An estimate with its uncertainty, the shape every eval output uses (`eval_result_uncertainty`). */
export interface Interval {
  estimate: number | null;
  std_error: number | null;
  low: number | null;
  high: number | null;
}

/**
 * Resample indices [resamples, units] row-major: row b draws `units` indices in [0, units) with
 * replacement from a mulberry32 stream seeded with `seed`. All metrics of one eval (and every
 * SAE of a run-level splice) use the same rows, so differences between them are paired.
 */
export function bootstrapIndices(units: number, resamples: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const out = new Int32Array(units * resamples);
  for (let i = 0; i < out.length; i++) out[i] = rng.int(units);
  return out;
}

/** NumPy `quantile(..., method='linear')` of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile interval and bootstrap standard error of `statistic`.
 * @param statistic  the metric over a multiset of units, given as their indices
 * @param indices    [resamples, units] from bootstrapIndices (or a reference's, for parity tests)
 * @param estimate   the metric on the full sample (reported as is)
 * Replicates that are not finite (an empty denominator) are dropped; with none left every
 * bound is null.
 */
export function bootstrapInterval(
  statistic: (indices: Int32Array) => number,
  indices: Int32Array,
  units: number,
  level: number,
  estimate: number,
): Interval {
  const replicates: number[] = [];
  for (let start = 0; start + units <= indices.length && units > 0; start += units) {
    const value = statistic(indices.subarray(start, start + units));
    if (Number.isFinite(value)) replicates.push(value);
  }
  return intervalFromReplicates(replicates, level, estimate);
}

export function intervalFromReplicates(replicates: number[], level: number, estimate: number): Interval {
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  if (replicates.length < 2) return { estimate: finite(estimate), std_error: null, low: null, high: null };
  const sorted = Float64Array.from(replicates).sort();
  let mean = 0;
  for (const v of replicates) mean += v;
  mean /= replicates.length;
  let ss = 0;
  for (const v of replicates) ss += (v - mean) * (v - mean);
  const alpha = (1 - level) / 2;
  return {
    estimate: finite(estimate),
    std_error: Math.sqrt(ss / (replicates.length - 1)),
    low: quantileSorted(sorted, alpha),
    high: quantileSorted(sorted, 1 - alpha),
  };
}

/** A normal-approximation interval estimate ± z SE (for binomial standard errors). */
export function normalInterval(estimate: number, stdError: number, level: number): Interval {
  if (!Number.isFinite(estimate) || !Number.isFinite(stdError)) return { estimate: Number.isFinite(estimate) ? estimate : null, std_error: null, low: null, high: null };
  const z = normalQuantile(1 - (1 - level) / 2);
  return { estimate, std_error: stdError, low: estimate - z * stdError, high: estimate + z * stdError };
}

/**
 * Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9), enough
 * for the z of an interval (1.959964 at 0.975).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Sum of column `col` of a units-major table [units, width] over the resampled units. */
export function resampledSum(table: Float64Array, width: number, col: number, indices: Int32Array): number {
  let s = 0;
  for (let i = 0; i < indices.length; i++) s += table[indices[i] * width + col];
  return s;
}
