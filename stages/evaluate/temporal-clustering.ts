import { gapStatistic, type GapReference, type GapResult } from './gap-statistic.js';
import { cutTree, leavesOrder, linkage, pairwiseDistances, silhouetteScore, type LinkageMethod } from './hierarchical-clustering.js';
import { createRng } from './random.js';

/**
 * Hierarchical clustering of latents by their position profiles (the paper's Figure 1, whose
 * "five clusters" were not justified: here the count is chosen, not fixed).
 *
 * Profile of latent i: its firing rate at each position, divided by its mean firing rate over
 * positions ('mean': shape only, a flat latent is all ones), z-scored ('zscore') or raw ('none').
 * Latents: the `maxFeatures` alive latents with the highest density (ties by index), because
 * linkage memory grows with n^2. Clusters: the tree is cut into k clusters for k in
 * [minClusters, maxClusters]; by default the gap statistic chooses k and may answer k = 1 (no
 * structure; gap-statistic.ts), or else the highest mean silhouette (Euclidean, on the
 * profiles) wins among k >= 2. Every k's silhouette (k >= 2) and gap are reported.
 */
export const PROFILE_NORMALISATIONS = ['mean', 'zscore', 'none'] as const;
export type ProfileNormalisation = (typeof PROFILE_NORMALISATIONS)[number];

export interface ClusteringOptions {
  method: LinkageMethod;
  normalisation: ProfileNormalisation;
  maxFeatures: number;
  minClusters: number;
  maxClusters: number;
  /** 'gap' (default) or 'silhouette'. */
  selection?: ClusterSelection;
  /** Gap statistic reference data sets (B). */
  gapReferences?: number;
  /** Gap statistic reference distribution (default 'uniform'). */
  gapReference?: GapReference;
  /** Seed of the reference data sets. */
  seed?: number;
}

export type ClusterSelection = 'gap' | 'silhouette';

export interface FeatureClustering {
  method: LinkageMethod;
  normalisation: ProfileNormalisation;
  criterion: ClusterSelection;
  /** The gap statistic over every k tried (null under 'silhouette'). */
  gap: GapResult | null;
  /** Latent ids clustered, in dendrogram leaf order (rows of the heatmap, top to bottom). */
  features: number[];
  /** SciPy-format linkage [n - 1][4]; leaf id i is `features[i]`, so its leaf order is 0..n-1. */
  linkage: number[][];
  /** Cluster label (1..k) of each latent in `features` (dendrogram order). */
  labels: number[];
  clusters: number;
  silhouettes: { k: number; silhouette: number }[];
  positions: number[];
  /** Heatmap rows: the normalised profile of each latent in `features`, [n][positions]. */
  profiles: number[][];
}

/**
 * @param firingRate  [dSae, positions.length]
 * @param density     [dSae] overall firing density (selects the latents)
 */
export function clusterFeatureProfiles(
  firingRate: Float32Array,
  density: ArrayLike<number>,
  positions: number[],
  options: ClusteringOptions,
): FeatureClustering | null {
  const nPos = positions.length;
  const chosenFeatures = Array.from({ length: density.length }, (_, i) => i)
    .filter((i) => density[i] > 0)
    .sort((a, b) => density[b] - density[a] || a - b)
    .slice(0, options.maxFeatures);
  const n = chosenFeatures.length;
  if (n < 3 || nPos < 2) return null;
  const profiles = new Float64Array(n * nPos);
  chosenFeatures.forEach((feature, row) => {
    const raw = Array.from(firingRate.subarray(feature * nPos, (feature + 1) * nPos));
    profiles.set(normaliseProfile(raw, options.normalisation), row * nPos);
  });
  const distances = pairwiseDistances(profiles, n, nPos);
  const Z = linkage(distances.slice(), n, options.method);
  const silhouettes: { k: number; silhouette: number }[] = [];
  for (let k = Math.max(2, options.minClusters); k <= Math.min(options.maxClusters, n - 1); k++) {
    silhouettes.push({ k, silhouette: silhouetteScore(distances, n, cutTree(Z, n, k)) });
  }
  const selection = options.selection ?? 'gap';
  const gap =
    selection === 'gap'
      ? gapStatistic(profiles, n, nPos, { method: options.method, kMin: options.minClusters, kMax: Math.min(options.maxClusters, n - 1), references: options.gapReferences ?? 20, reference: options.gapReference ?? 'uniform' }, createRng(options.seed ?? 42))
      : null;
  const chosenK = gap ? gap.chosen : silhouettes.reduce((a, b) => (b.silhouette > a.silhouette ? b : a)).k;
  const labels = cutTree(Z, n, chosenK);
  const order = leavesOrder(Z, n);
  const leafPosition = new Int32Array(n);
  order.forEach((row, i) => (leafPosition[row] = i));
  const relabel = (id: number) => (id < n ? leafPosition[id] : id);
  return {
    method: options.method,
    normalisation: options.normalisation,
    criterion: selection,
    gap,
    features: order.map((row) => chosenFeatures[row]),
    linkage: Array.from({ length: n - 1 }, (_, i) => {
      const [a, b, dist, size] = Z.subarray(i * 4, i * 4 + 4);
      const [x, y] = [relabel(a), relabel(b)];
      return [Math.min(x, y), Math.max(x, y), dist, size];
    }),
    labels: order.map((row) => labels[row]),
    clusters: chosenK,
    silhouettes,
    positions,
    profiles: order.map((row) => Array.from(profiles.subarray(row * nPos, (row + 1) * nPos))),
  };
}

export function normaliseProfile(raw: number[], how: ProfileNormalisation): number[] {
  if (how === 'none') return raw;
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  if (how === 'mean') return raw.map((v) => (mean > 0 ? v / mean : 0));
  const sd = Math.sqrt(raw.reduce((a, v) => a + (v - mean) * (v - mean), 0) / raw.length);
  return raw.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}
