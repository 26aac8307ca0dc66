import { cutTree, linkage, pairwiseDistances, type LinkageMethod } from './hierarchical-clustering.js';
import type { Rng } from './random.js';

/**
 * The gap statistic (Tibshirani, Walther & Hastie 2001, "Estimating the number of clusters in
 * a data set via the gap statistic", JRSS B 63(2)), so the temporal clustering can answer
 * "no structure" (k = 1) instead of always picking some k >= 2 by silhouette (issue 13).
 *
 *   W_k    = sum_r D_r / (2 n_r), D_r the sum of squared Euclidean distances within cluster r
 *            (= the within-cluster sum of squares about the cluster means), clusters from
 *            cutting the hierarchical tree into k
 *   Gap(k) = mean_b log W*_kb - log W_k over B reference data sets drawn uniformly over the
 *            range of each feature (the paper's reference (a)), clustered the same way
 *   s_k    = sd_b(log W*_kb) sqrt(1 + 1/B), sd with 1/B as in the paper
 *   k^     = the smallest k with Gap(k) >= Gap(k + 1) - s_(k+1) (the paper's rule); the
 *            largest k tried when none qualifies.
 */
export interface GapResult {
  k: number[];
  logW: number[];
  expectedLogW: number[];
  gap: number[];
  /** s_k of the rule. */
  sk: number[];
  chosen: number;
}

/** W_k of a labelling: points [n, p] row-major, labels [n] (any integer ids). */
export function withinDispersion(points: Float64Array, n: number, p: number, labels: ArrayLike<number>): number {
  const sums = new Map<number, { count: number; sum: Float64Array; sq: number }>();
  for (let i = 0; i < n; i++) {
    let entry = sums.get(labels[i]);
    if (!entry) sums.set(labels[i], (entry = { count: 0, sum: new Float64Array(p), sq: 0 }));
    entry.count++;
    for (let j = 0; j < p; j++) {
      const v = points[i * p + j];
      entry.sum[j] += v;
      entry.sq += v * v;
    }
  }
  // sum_r sum_{i in r} ||x_i - m_r||^2 = sum_r (sum ||x_i||^2 - ||sum x_i||^2 / n_r)
  let w = 0;
  for (const { count, sum, sq } of sums.values()) {
    let norm = 0;
    for (const v of sum) norm += v * v;
    w += sq - norm / count;
  }
  return Math.max(w, 0);
}

/** log W_k for k = kMin..kMax of the tree built on `points` with `method`. */
export function logDispersions(points: Float64Array, n: number, p: number, method: LinkageMethod, kMin: number, kMax: number): number[] {
  const Z = linkage(pairwiseDistances(points, n, p), n, method);
  const out: number[] = [];
  for (let k = kMin; k <= kMax; k++) out.push(Math.log(Math.max(withinDispersion(points, n, p, cutTree(Z, n, k)), Number.MIN_VALUE)));
  return out;
}

/**
 * Uniform reference data sets over the per-feature range of `points`, [n, p] each.
 * @param uniforms  optional draws in [0, 1), [references][n * p] (parity tests pass a reference's)
 */
export function referenceSets(points: Float64Array, n: number, p: number, references: number, rng: Rng, uniforms?: ArrayLike<number>[]): Float64Array[] {
  const lo = new Float64Array(p).fill(Infinity);
  const hi = new Float64Array(p).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      lo[j] = Math.min(lo[j], points[i * p + j]);
      hi[j] = Math.max(hi[j], points[i * p + j]);
    }
  }
  return Array.from({ length: references }, (_, b) => {
    const out = new Float64Array(n * p);
    for (let i = 0; i < n * p; i++) {
      const u = uniforms ? uniforms[b][i] : rng.next();
      out[i] = lo[i % p] + u * (hi[i % p] - lo[i % p]);
    }
    return out;
  });
}

/** The gap statistic for k = kMin..kMax (kMin >= 1) and the rule's choice. */
export function gapStatistic(
  points: Float64Array,
  n: number,
  p: number,
  options: { method: LinkageMethod; kMin: number; kMax: number; references: number },
  rng: Rng,
  uniforms?: ArrayLike<number>[],
): GapResult {
  const kMax = Math.min(options.kMax, n);
  const k = Array.from({ length: kMax - options.kMin + 1 }, (_, i) => options.kMin + i);
  const logW = logDispersions(points, n, p, options.method, options.kMin, kMax);
  const refs = referenceSets(points, n, p, options.references, rng, uniforms).map((ref) => logDispersions(ref, n, p, options.method, options.kMin, kMax));
  const B = refs.length;
  const expectedLogW = k.map((_, i) => refs.reduce((a, r) => a + r[i], 0) / B);
  const sk = k.map((_, i) => Math.sqrt(refs.reduce((a, r) => a + (r[i] - expectedLogW[i]) ** 2, 0) / B) * Math.sqrt(1 + 1 / B));
  const gap = k.map((_, i) => expectedLogW[i] - logW[i]);
  let chosen = k[k.length - 1];
  for (let i = 0; i + 1 < k.length; i++) {
    if (gap[i] >= gap[i + 1] - sk[i + 1]) {
      chosen = k[i];
      break;
    }
  }
  return { k, logW, expectedLogW, gap, sk, chosen };
}
