import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { CoreEvalConfig, CoreEvalOutput, EvalUncertainty } from '../../schemas/eval.js';
import type { StageContext } from '../../lib/core/context.js';
import { batchWindows, splitWindows } from './activation-windows.js';
import { bootstrapIndices } from './bootstrap.js';
import { CoreMetricsAccumulator, type CoreMetricsResult } from './core-metrics.js';
import { coreIntervals } from './core-units.js';
import type { SaeForEval } from './interfaces.js';
import { findMassiveDims, type MassiveDims } from './massive-dims.js';
import { runTokenPass, type BatchConsumer } from './token-pass.js';

export const CORE_DEFINITIONS: Record<string, string> = {
  explained_variance: 'pooled: 1 - sum_t ||x_t - xhat_t||^2 / sum_t ||x_t - mean(x)||^2 (metrics.md def. 1)',
  explained_variance_legacy: 'SAEBench legacy: mean_t [1 - ||x_t - xhat_t||^2 / ||x_t - mean_batch(x)||^2], batches of batch_size_prompts windows (def. 2)',
  explained_variance_centered: 'dictionary_learning: 1 - sum_d var(x - xhat)_d / sum_d var(x)_d (def. 3)',
  explained_variance_without_massive_dims: 'the same definitions with every sum over d restricted to the dimensions not in massive_activation_dims',
  massive_activation_dims: "dimensions whose share of E||x||^2 over the eval set's non-special tokens exceeds massive_dim_share_threshold (Sun et al. 2024 massive activations)",
  mse: 'mean over tokens of ||x - xhat||^2 summed over d (SAELens further divides by the batch token count; not here)',
  l0: 'mean count of latents != 0 per token',
  l1: 'mean sum_i |f_i| per token',
  relative_reconstruction_bias: 'E||xhat||^2 / E[x . xhat] per batch, averaged over batches (as SAELens)',
  kl_div_score: '(KL_ablation - KL_sae) / KL_ablation, KL(p_clean || p_new) summed over the vocabulary, mean over non-special tokens; computed once per run for all SAEs (splice.json)',
  ce_loss_score: '(CE_ablation - CE_sae) / (CE_ablation - CE_clean), zero ablation baseline; computed once per run for all SAEs (splice.json)',
  tokens: 'special tokens (BOS/EOS/PAD) are excluded from every mean',
  uncertainty: 'percentile bootstrap over prompts (context windows), ratios recomputed from resampled sums',
};

export interface CoreEvalResult {
  core: CoreMetricsResult;
  massiveDims: MassiveDims & { share_of_variance: number };
  uncertainty: EvalUncertainty;
  timing: Record<string, number>;
}

/** The bootstrap description shared by the core and the splice intervals. */
export function promptBootstrap(config: CoreEvalConfig, windowsPerUnit: number, intervals: EvalUncertainty['intervals']): EvalUncertainty {
  return {
    method: 'percentile bootstrap; each metric recomputed from the resampled units\' sums; the same resample rows for every metric and SAE',
    unit: windowsPerUnit === 1 ? 'prompt (context window)' : `block of ${windowsPerUnit} consecutive prompts`,
    level: config.confidence_level,
    resamples: config.bootstrap_resamples,
    seed: config.bootstrap_seed,
    intervals,
  };
}

/**
 * Runs the core family's SAE pass on held-out activations: reconstruction, shrinkage and
 * sparsity, the massive-dimension variants and their bootstrap intervals. The KL / CE splice is
 * not run here: the run-level evaluateSplice does it once for all SAEs, and mergeSpliceIntoCore
 * adds its numbers. `extraConsumers` ride along the SAE pass.
 */
export async function runCoreEval(
  deps: { table: ActivationTable; sae: SaeForEval },
  config: CoreEvalConfig,
  ctx: StageContext,
  extraConsumers: BatchConsumer[] = [],
): Promise<CoreEvalResult> {
  const batches = batchWindows(splitWindows(deps.table), config.batch_size_prompts);
  const used = batches.slice(0, config.n_eval_sparsity_variance_batches ?? batches.length).flat();
  let started = performance.now();
  const massive = findMassiveDims(deps.table, used, config.massive_dim_share_threshold);
  const windowsPerUnit = Math.max(1, Math.ceil(used.length / config.bootstrap_max_units));
  const accumulator = new CoreMetricsAccumulator(deps.sae.dIn, deps.sae.dSae, { excludedDims: massive.dims, windowsPerUnit });
  await runTokenPass(
    deps.table,
    deps.sae,
    { batchPrompts: config.batch_size_prompts, maxBatches: config.n_eval_sparsity_variance_batches },
    [accumulator, ...extraConsumers],
    ctx,
  );
  const timing: Record<string, number> = { sae_pass_seconds: (performance.now() - started) / 1000 };
  const core = accumulator.finish();
  started = performance.now();
  const units = accumulator.units.table().units;
  const intervals = config.bootstrap_resamples > 0
    ? coreIntervals(accumulator.units, core.metrics, bootstrapIndices(units, config.bootstrap_resamples, config.bootstrap_seed), config.confidence_level)
    : {};
  timing.bootstrap_seconds = (performance.now() - started) / 1000;
  return {
    core,
    massiveDims: { ...massive, share_of_variance: core.metrics.massive_dims_share_of_variance },
    uncertainty: promptBootstrap(config, windowsPerUnit, intervals),
    timing,
  };
}

export const SPLICE_PENDING_STATUS = 'kl/ce come from the run-level splice eval (splice.json) and are merged by mergeSpliceIntoCore';

/** The SAEBench-shaped core JSON, KL / CE left null until mergeSpliceIntoCore fills them. */
export function coreOutput(result: CoreEvalResult, config: CoreEvalConfig, header: { eval_id: string; datetime_epoch_millis: number; sae_label: string }): CoreEvalOutput {
  const m = result.core.metrics;
  return {
    eval_type_id: 'core',
    ...header,
    definitions: CORE_DEFINITIONS,
    timing: result.timing,
    eval_config: config,
    status: config.compute_splice ? SPLICE_PENDING_STATUS : 'kl/ce not computed: compute_splice is false',
    eval_result_metrics: {
      model_behavior_preservation: null,
      model_performance_preservation: null,
      reconstruction_quality: {
        explained_variance: m.explained_variance,
        explained_variance_legacy: m.explained_variance_legacy,
        explained_variance_centered: m.explained_variance_centered,
        explained_variance_without_massive_dims: m.explained_variance_without_massive_dims,
        explained_variance_legacy_without_massive_dims: m.explained_variance_legacy_without_massive_dims,
        explained_variance_centered_without_massive_dims: m.explained_variance_centered_without_massive_dims,
        mse: m.mse,
        mse_per_dim: m.mse_per_dim,
        cossim: m.cossim,
      },
      shrinkage: { l2_norm_in: m.l2_norm_in, l2_norm_out: m.l2_norm_out, l2_ratio: m.l2_ratio, relative_reconstruction_bias: m.relative_reconstruction_bias },
      sparsity: { l0: m.l0, l1: m.l1 },
      token_stats: { total_tokens_eval_reconstruction: 0, total_tokens_eval_sparsity_variance: m.tokens },
      misc_metrics: {
        frac_alive: m.frac_alive,
        freq_over_1_percent: m.freq_over_1_percent,
        freq_over_10_percent: m.freq_over_10_percent,
        normalized_freq_over_1_percent: m.normalized_freq_over_1_percent,
        normalized_freq_over_10_percent: m.normalized_freq_over_10_percent,
      },
    },
    massive_activation_dims: result.massiveDims,
    eval_result_uncertainty: result.uncertainty,
  };
}
