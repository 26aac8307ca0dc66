import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { CoreEvalConfig, CoreEvalOutput } from '../../schemas/eval.js';
import type { StageContext } from '../../lib/core/context.js';
import { CoreMetricsAccumulator, type CoreMetricsResult } from './core-metrics.js';
import type { SaeForEval, Splicer } from './interfaces.js';
import { computeSpliceScores, type SpliceResult } from './splice-scores.js';
import { runTokenPass, type BatchConsumer } from './token-pass.js';

export const CORE_DEFINITIONS: Record<string, string> = {
  explained_variance: 'pooled: 1 - sum_t ||x_t - xhat_t||^2 / sum_t ||x_t - mean(x)||^2 (metrics.md def. 1)',
  explained_variance_legacy: 'SAEBench legacy: mean_t [1 - ||x_t - xhat_t||^2 / ||x_t - mean_batch(x)||^2], batches of batch_size_prompts windows (def. 2)',
  explained_variance_centered: 'dictionary_learning: 1 - sum_d var(x - xhat)_d / sum_d var(x)_d (def. 3)',
  mse: 'mean over tokens of ||x - xhat||^2 summed over d (SAELens further divides by the batch token count; not here)',
  l0: 'mean count of latents != 0 per token',
  l1: 'mean sum_i |f_i| per token',
  relative_reconstruction_bias: 'E||xhat||^2 / E[x . xhat] per batch, averaged over batches (as SAELens)',
  kl_div_score: '(KL_ablation - KL_sae) / KL_ablation, KL(p_clean || p_new) summed over the vocabulary, mean over non-special tokens',
  ce_loss_score: '(CE_ablation - CE_sae) / (CE_ablation - CE_clean), zero ablation baseline',
  tokens: 'special tokens (BOS/EOS/PAD) are excluded from every mean',
};

/** Runs the core family on held-out activations; `extraConsumers` ride along the SAE pass. */
export async function runCoreEval(
  deps: { table: ActivationTable; sae: SaeForEval; splicer?: Splicer; scaleFactor?: number },
  config: CoreEvalConfig,
  ctx: StageContext,
  extraConsumers: BatchConsumer[] = [],
): Promise<{ core: CoreMetricsResult; splice: SpliceResult | null; timing: Record<string, number> }> {
  const accumulator = new CoreMetricsAccumulator(deps.sae.dIn, deps.sae.dSae);
  let started = performance.now();
  await runTokenPass(
    deps.table,
    deps.sae,
    { batchPrompts: config.batch_size_prompts, maxBatches: config.n_eval_sparsity_variance_batches, scaleFactor: deps.scaleFactor },
    [accumulator, ...extraConsumers],
    ctx,
  );
  const timing: Record<string, number> = { sae_pass_seconds: (performance.now() - started) / 1000 };
  let splice: SpliceResult | null = null;
  if (config.compute_splice && deps.splicer) {
    started = performance.now();
    splice = await computeSpliceScores(
      deps.table,
      deps.sae,
      deps.splicer,
      {
        batchPrompts: config.batch_size_prompts,
        maxBatches: config.n_eval_reconstruction_batches,
        excludeSpecialTokensFromReconstruction: config.exclude_special_tokens_from_reconstruction,
        zeroAblateSpecialTokens: config.zero_ablate_special_tokens,
        scaleFactor: deps.scaleFactor,
      },
      ctx,
    );
    timing.splice_total_seconds = (performance.now() - started) / 1000;
    timing.splice_model_seconds = splice.timing.spliceSeconds;
    timing.splice_sae_seconds = splice.timing.saeSeconds;
  }
  return { core: accumulator.finish(), splice, timing };
}

/** The SAEBench-shaped core JSON. */
export function coreOutput(
  result: { core: CoreMetricsResult; splice: SpliceResult | null; timing: Record<string, number> },
  config: CoreEvalConfig,
  header: { eval_id: string; datetime_epoch_millis: number; sae_label: string },
): CoreEvalOutput {
  const m = result.core.metrics;
  const s = result.splice?.metrics;
  const status = s ? undefined : config.compute_splice ? 'kl/ce not computed: no splicer (model) given' : 'kl/ce not computed: compute_splice is false';
  return {
    eval_type_id: 'core',
    ...header,
    definitions: CORE_DEFINITIONS,
    timing: result.timing,
    eval_config: config,
    ...(status ? { status } : {}),
    eval_result_metrics: {
      model_behavior_preservation: s ? { kl_div_score: s.kl_div_score, kl_div_with_ablation: s.kl_div_with_ablation, kl_div_with_sae: s.kl_div_with_sae } : null,
      model_performance_preservation: s
        ? { ce_loss_score: s.ce_loss_score, ce_loss_with_ablation: s.ce_loss_with_ablation, ce_loss_with_sae: s.ce_loss_with_sae, ce_loss_without_sae: s.ce_loss_without_sae }
        : null,
      reconstruction_quality: {
        explained_variance: m.explained_variance,
        explained_variance_legacy: m.explained_variance_legacy,
        explained_variance_centered: m.explained_variance_centered,
        mse: m.mse,
        mse_per_dim: m.mse_per_dim,
        cossim: m.cossim,
      },
      shrinkage: { l2_norm_in: m.l2_norm_in, l2_norm_out: m.l2_norm_out, l2_ratio: m.l2_ratio, relative_reconstruction_bias: m.relative_reconstruction_bias },
      sparsity: { l0: m.l0, l1: m.l1 },
      token_stats: { total_tokens_eval_reconstruction: s?.tokens ?? 0, total_tokens_eval_sparsity_variance: m.tokens },
      misc_metrics: {
        frac_alive: m.frac_alive,
        freq_over_1_percent: m.freq_over_1_percent,
        freq_over_10_percent: m.freq_over_10_percent,
        normalized_freq_over_1_percent: m.normalized_freq_over_1_percent,
        normalized_freq_over_10_percent: m.normalized_freq_over_10_percent,
      },
    },
  };
}
