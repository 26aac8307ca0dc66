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
 *   Gap(k) = mean_b log W*_kb - log W_k over B reference data sets clustered the same way:
 *            'uniform' (default): uniform over the range of each feature (the paper's
 *              reference (a));
 *            'permuted': each row's values permuted across features independently, a
 *              permuted-position null for position profiles: every latent keeps its values
 *              (spikes and outliers included), only their positions lose meaning, so it tests
 *              "any position dependence" rather than "clumped within the bounding box".
 *            With continuous structure (no discrete clusters) Gap(k) keeps growing and the rule
 *            returns the largest k tried; GapResult.atSearchLimit says so.
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
  /** True when no k below the largest tried satisfied the rule (no elbow: the chosen k is the search limit). */
  atSearchLimit: boolean;
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

export type GapReference = 'permuted' | 'uniform';

/**
 * Reference data sets, [n, p] each.
 * @param draws  optional fixed draws (parity tests pass a reference's): 'uniform', values in
 *   [0, 1), [references][n * p]; 'permuted', per row a permutation of 0..p-1, [references][n * p]
 */
export function referenceSets(points: Float64Array, n: number, p: number, references: number, rng: Rng, kind: GapReference, draws?: ArrayLike<number>[]): Float64Array[] {
  return kind === 'uniform' ? uniformSets(points, n, p, references, rng, draws) : permutedSets(points, n, p, references, rng, draws);
}

/** Each row's values in a random order (Fisher-Yates per row), or in the given orders. */
function permutedSets(points: Float64Array, n: number, p: number, references: number, rng: Rng, orders?: ArrayLike<number>[]): Float64Array[] {
  return Array.from({ length: references }, (_, b) => {
    const out = new Float64Array(n * p);
    const order = new Int32Array(p);
    for (let i = 0; i < n; i++) {
      if (orders) for (let j = 0; j < p; j++) order[j] = orders[b][i * p + j];
      else {
        for (let j = 0; j < p; j++) order[j] = j;
        for (let j = p - 1; j > 0; j--) {
          const r = rng.int(j + 1);
          [order[j], order[r]] = [order[r], order[j]];
        }
      }
      for (let j = 0; j < p; j++) out[i * p + j] = points[i * p + order[j]];
    }
    return out;
  });
}

function uniformSets(points: Float64Array, n: number, p: number, references: number, rng: Rng, uniforms?: ArrayLike<number>[]): Float64Array[] {
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
  options: { method: LinkageMethod; kMin: number; kMax: number; references: number; reference?: GapReference },
  rng: Rng,
  draws?: ArrayLike<number>[],
): GapResult {
  const kMax = Math.min(options.kMax, n);
  const k = Array.from({ length: kMax - options.kMin + 1 }, (_, i) => options.kMin + i);
  const logW = logDispersions(points, n, p, options.method, options.kMin, kMax);
  const refs = referenceSets(points, n, p, options.references, rng, options.reference ?? 'uniform', draws).map((ref) => logDispersions(ref, n, p, options.method, options.kMin, kMax));
  const B = refs.length;
  const expectedLogW = k.map((_, i) => refs.reduce((a, r) => a + r[i], 0) / B);
  const sk = k.map((_, i) => Math.sqrt(refs.reduce((a, r) => a + (r[i] - expectedLogW[i]) ** 2, 0) / B) * Math.sqrt(1 + 1 / B));
  const gap = k.map((_, i) => expectedLogW[i] - logW[i]);
  const first = k.findIndex((_, i) => i + 1 < k.length && gap[i] >= gap[i + 1] - sk[i + 1]);
  return { k, logW, expectedLogW, gap, sk, chosen: first >= 0 ? k[first] : k[k.length - 1], atSearchLimit: first < 0 };
}
