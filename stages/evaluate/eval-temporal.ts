import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { TemporalEvalConfig, TemporalEvalOutput } from '../../schemas/eval.js';
import type { StageContext } from '../../lib/core/context.js';
import type { SaeForEval } from './interfaces.js';
import { summarise, TemporalAccumulator, type TemporalStats } from './temporal-analysis.js';
import { clusterFeatureProfiles, type FeatureClustering } from './temporal-clustering.js';
import { runTokenPass } from './token-pass.js';

export const TEMPORAL_DEFINITIONS: Record<string, string> = {
  temporal_instability: 'mean over consecutive pairs (same window and document, no special token) of ||f_t - f_t-1||^2 / mean over tokens of ||f_t||^2',
  mean_feature_instability: 'mean over alive latents of mean_P (f_t,i - f_t-1,i)^2 / mean_T f_t,i^2 (0 constant, 2 independent)',
  lag1_autocorrelation: 'mean over alive latents of mean_P (f_t-1 - m)(f_t - m) / var(f), pooled over windows',
  n_clusters: "Ward clusters of latent position profiles (firing rate per position / its mean), k in [min_clusters, max_clusters] chosen by cluster_selection: 'gap' (Tibshirani et al. 2001, uniform reference over each position's range; k = 1 means no structure) or 'silhouette' (best mean silhouette, k >= 2)",
  gap_statistic: 'Gap(k) = mean_b log W*_kb - log W_k; chosen k = smallest k with Gap(k) >= Gap(k+1) - s_(k+1) (at_search_limit when none: Gap still grows at max_clusters); W_k = within-cluster sum of squares',
  per_position_explained_variance: '1 - sum_{t at p} ||x - xhat||^2 / sum_{t at p} ||x - mu||^2, mu the mean of all evaluated tokens',
};

export async function runTemporalEval(
  deps: { table: ActivationTable; sae: SaeForEval },
  config: TemporalEvalConfig,
  ctx: StageContext,
): Promise<{ stats: TemporalStats; clustering: FeatureClustering | null; timing: Record<string, number> }> {
  const accumulator = new TemporalAccumulator(deps.sae.dIn, deps.sae.dSae);
  let started = performance.now();
  await runTokenPass(deps.table, deps.sae, { batchPrompts: config.batch_size_prompts, maxBatches: config.n_batches }, [accumulator], ctx);
  const stats = accumulator.finish();
  const timing: Record<string, number> = { sae_pass_seconds: (performance.now() - started) / 1000 };
  started = performance.now();
  const clustering = clusterFeatureProfiles(stats.firingRate, overallDensity(stats), stats.positions, {
    method: config.linkage_method,
    normalisation: config.profile_normalization,
    maxFeatures: config.cluster_max_features,
    minClusters: config.min_clusters,
    maxClusters: config.max_clusters,
    selection: config.cluster_selection,
    gapReferences: config.gap_reference_sets,
    gapReference: config.gap_reference,
    seed: config.random_seed,
  });
  timing.clustering_seconds = (performance.now() - started) / 1000;
  return { stats, clustering, timing };
}

/** Overall firing density per latent from the per-position rates (token-weighted). */
function overallDensity(stats: TemporalStats): Float64Array {
  const nPos = stats.positions.length;
  const weights = stats.perPosition.map((p) => p.tokens / stats.tokens);
  const density = new Float64Array(stats.firingRate.length / Math.max(nPos, 1));
  for (let i = 0; i < density.length; i++) {
    for (let c = 0; c < nPos; c++) density[i] += stats.firingRate[i * nPos + c] * weights[c];
  }
  return density;
}

export function temporalOutput(
  result: { stats: TemporalStats; clustering: FeatureClustering | null; timing: Record<string, number> },
  config: TemporalEvalConfig,
  header: { eval_id: string; datetime_epoch_millis: number; sae_label: string },
): TemporalEvalOutput {
  const { stats, clustering } = result;
  const instability = summarise(stats.featureInstability);
  const autocorrelation = summarise(stats.featureAutocorrelation);
  const chosen = clustering?.silhouettes.find((s) => s.k === clustering.clusters);
  return {
    eval_type_id: 'temporal',
    ...header,
    definitions: TEMPORAL_DEFINITIONS,
    timing: result.timing,
    eval_config: config,
    eval_result_metrics: {
      temporal: {
        temporal_instability: stats.temporalInstability,
        mean_feature_instability: instability.mean,
        median_feature_instability: instability.median,
        lag1_autocorrelation: autocorrelation.mean,
        median_lag1_autocorrelation: autocorrelation.median,
        n_clusters: clustering?.clusters ?? null,
        cluster_selection: config.cluster_selection,
        has_cluster_structure: clustering ? clustering.clusters > 1 : null,
        silhouette: chosen?.silhouette ?? null,
        pairs: stats.pairs,
        tokens: stats.tokens,
      },
    },
    gap_statistic: clustering?.gap
      ? {
          k: clustering.gap.k,
          log_w: clustering.gap.logW,
          expected_log_w: clustering.gap.expectedLogW,
          gap: clustering.gap.gap,
          s_k: clustering.gap.sk,
          chosen_k: clustering.gap.chosen,
          at_search_limit: clustering.gap.atSearchLimit,
          reference_sets: config.gap_reference_sets,
          reference:
            config.gap_reference === 'uniform'
              ? "uniform over each position's range of the profiles (Tibshirani et al. 2001, reference (a))"
              : "permuted positions: each latent's profile values shuffled across positions",
          rule: 'smallest k with Gap(k) >= Gap(k+1) - s_(k+1); the largest k tried when none',
        }
      : null,
    per_position: stats.perPosition,
    analysis: clustering
      ? {
          positions: stats.positions,
          perPosition: {
            l0: stats.perPosition.map((p) => p.l0),
            explained_variance: stats.perPosition.map((p) => p.explained_variance),
            mse: stats.perPosition.map((p) => p.mse),
            tokens: stats.perPosition.map((p) => p.tokens),
          },
          features: clustering.features,
          activity: clustering.profiles,
          activityMeasure: `firing rate, profile normalised by '${clustering.normalisation}'`,
          linkage: clustering.linkage,
          linkageMethod: clustering.method,
          clusters: clustering.labels,
          nClusters: clustering.clusters,
          criterion: criterionOf(clustering),
        }
      : null,
  };
}

/** The report's criterion block: the gap (with s_k) or the silhouettes. */
function criterionOf(c: FeatureClustering): NonNullable<TemporalEvalOutput['analysis']>['criterion'] {
  if (c.gap) {
    const g = c.gap;
    const i = g.k.indexOf(c.clusters);
    return { name: 'gap', value: i >= 0 ? g.gap[i] : null, candidates: g.k.map((k, j) => ({ k, score: g.gap[j], std_error: g.sk[j] })) };
  }
  return { name: 'silhouette', value: c.silhouettes.find((s) => s.k === c.clusters)?.silhouette ?? null, candidates: c.silhouettes.map((s) => ({ k: s.k, score: s.silhouette })) };
}
