import { z } from 'zod';
import { AbsorptionEvalConfig, CoreEvalConfig, EVAL_FAMILIES, SparseProbingEvalConfig, TemporalEvalConfig } from './eval-config.js';

/**
 * Eval outputs: one JSON per family per SAE, SAEBench-shaped (eval_config, eval_result_metrics
 * grouped like SAEBench's, eval_result_details) plus eval_result_uncertainty (error bars), the
 * run-level splice.json, and the run's combined metrics.json. Definitions behind every number:
 * stages/evaluate/* and metrics.md.
 */
const num = z.number().nullable();

/** An estimate with its error bar (stages/evaluate/bootstrap.ts). */
export const Interval = z.object({
  estimate: num.describe('The metric on the full sample'),
  std_error: num.describe('Standard error (bootstrap: std of the replicates; binomial: propagated)'),
  low: num.describe('Lower bound at `level`'),
  high: num.describe('Upper bound at `level`'),
});
export type Interval = z.infer<typeof Interval>;

/** `eval_result_uncertainty`: how the error bars were made and one interval per compared metric. */
export const EvalUncertainty = z.object({
  method: z.string().describe('How the intervals were computed (bootstrap over prompts, binomial standard error, ...)'),
  unit: z.string().describe('What was resampled or counted: prompts, test texts, letters'),
  level: z.number().describe('Two-sided coverage of low..high'),
  resamples: z.number().int().nullable().describe('Bootstrap resamples (null when not a bootstrap)'),
  seed: z.number().int().nullable().describe('Seed of the resample indices (null when not a bootstrap)'),
  intervals: z.record(z.string(), Interval).describe('Per metric, keyed by its field name in eval_result_metrics'),
});
export type EvalUncertainty = z.infer<typeof EvalUncertainty>;

const EvalHeader = {
  eval_type_id: z.enum(EVAL_FAMILIES).describe('Eval family'),
  eval_id: z.string().describe('UUID of this eval run'),
  datetime_epoch_millis: z.number().int().describe('When the eval finished, epoch ms'),
  sae_label: z.string().describe('Variant label of the SAE evaluated'),
  definitions: z.record(z.string(), z.string()).describe('How each number is defined (metrics.md)'),
  timing: z.record(z.string(), z.number()).describe('Wall seconds of the eval parts'),
};

const SpliceBehavior = z.object({
  kl_div_score: num.describe('(KL_abl - KL_sae) / KL_abl'),
  kl_div_with_ablation: num.describe('Mean KL with zero ablation'),
  kl_div_with_sae: num.describe('Mean KL with the SAE spliced in'),
});
const SplicePerformance = z.object({
  ce_loss_score: num.describe('(CE_abl - CE_sae) / (CE_abl - CE_clean)'),
  ce_loss_with_ablation: num.describe('Mean CE with zero ablation'),
  ce_loss_with_sae: num.describe('Mean CE with the SAE'),
  ce_loss_without_sae: num.describe('Mean CE of the clean model'),
});

export const CoreEvalOutput = z.object({
  ...EvalHeader,
  eval_config: CoreEvalConfig.describe('Config used'),
  status: z.string().optional().describe('Why some metrics are missing (absent when all were computed)'),
  deviations: z.array(z.string()).optional().describe("Departures from SAEBench's settings behind these numbers (from the run-level splice: fewer batches than requested)"),
  eval_result_metrics: z
    .object({
      model_behavior_preservation: SpliceBehavior.nullable().describe('KL metrics (from splice.json), null until merged or when the splice did not run'),
      model_performance_preservation: SplicePerformance.nullable().describe('CE metrics (from splice.json), null until merged or when the splice did not run'),
      reconstruction_quality: z
        .object({
          explained_variance: num.describe('Pooled: 1 - sum ||x - xhat||^2 / sum ||x - mean(x)||^2'),
          explained_variance_legacy: num.describe('SAEBench legacy: mean over tokens of 1 - ||x - xhat||^2 / ||x - mean_batch(x)||^2'),
          explained_variance_centered: num.describe('dictionary_learning: 1 - sum_d var(x - xhat) / sum_d var(x)'),
          explained_variance_without_massive_dims: num.describe('Pooled, every sum over d restricted to the dimensions not in massive_activation_dims'),
          explained_variance_legacy_without_massive_dims: num.describe('SAEBench legacy, restricted the same way'),
          explained_variance_centered_without_massive_dims: num.describe('dictionary_learning, restricted the same way'),
          mse: num.describe('Mean over tokens of ||x - xhat||^2, summed over d'),
          mse_per_dim: num.describe('mse / d'),
          cossim: num.describe('Mean cos(x, xhat)'),
        })
        .describe('Reconstruction quality'),
      shrinkage: z
        .object({
          l2_norm_in: num.describe('Mean ||x||'),
          l2_norm_out: num.describe('Mean ||xhat||'),
          l2_ratio: num.describe('Mean ||xhat|| / ||x||'),
          relative_reconstruction_bias: num.describe('E||xhat||^2 / E[x . xhat] per batch, averaged'),
        })
        .describe('Shrinkage'),
      sparsity: z.object({ l0: num.describe('Mean latents != 0 per token'), l1: num.describe('Mean sum |f| per token') }).describe('Sparsity'),
      token_stats: z
        .object({
          total_tokens_eval_reconstruction: z.number().int().describe('Non-special tokens in the KL / CE means'),
          total_tokens_eval_sparsity_variance: z.number().int().describe('Non-special tokens in the other metrics'),
        })
        .describe('Token counts'),
      misc_metrics: z
        .object({
          frac_alive: num.describe('Share of latents with density > 0'),
          freq_over_1_percent: num.describe('Share of latents with density > 1%'),
          freq_over_10_percent: num.describe('Share of latents with density > 10%'),
          normalized_freq_over_1_percent: num.describe('Density mass of latents over 1%'),
          normalized_freq_over_10_percent: num.describe('Density mass of latents over 10%'),
        })
        .describe('Density shares'),
    })
    .describe('Metrics grouped as SAEBench core'),
  massive_activation_dims: z
    .object({
      rule: z.string().describe('How the dimensions were chosen'),
      threshold: z.number().describe('Share of E||x||^2 above which a dimension is excluded'),
      dims: z.array(z.number().int()).describe('Excluded residual dimensions, ascending'),
      share_of_mean_squared_norm: z.array(z.number()).describe("Each excluded dimension's share of E||x||^2"),
      total_share_of_mean_squared_norm: z.number().describe('Their summed share of E||x||^2'),
      share_of_variance: z.number().describe('Their share of the total variance sum_d var(x)_d'),
      tokens: z.number().int().describe('Non-special eval tokens the shares were computed on'),
    })
    .describe('The massive-activation dimensions left out of the *_without_massive_dims metrics (same for every SAE of a run)'),
  eval_result_uncertainty: EvalUncertainty.describe('Error bars: bootstrap over prompts (kl/ce ones added by mergeSpliceIntoCore)'),
});
export type CoreEvalOutput = z.infer<typeof CoreEvalOutput>;

/**
 * `splice.json`: the run-level KL / CE splice of every SAE of a run (stages/evaluate/splice-eval.ts).
 * One file for all SAEs: the clean and ablation passes are shared, and so are the bootstrap rows.
 */
export const SpliceEvalOutput = z.object({
  eval_type_id: z.literal('splice').describe('Run-level splice eval'),
  eval_id: z.string().describe('UUID derived from the inputs'),
  datetime_epoch_millis: z.number().int().describe('0: outputs are deterministic artifacts'),
  definitions: z.record(z.string(), z.string()).describe('How each number is defined'),
  eval_config: CoreEvalConfig.describe('The core config whose splice fields were used'),
  sae_labels: z.array(z.string()).describe('SAEs in splice order'),
  deviations: z.array(z.string()).describe('Departures from the requested token count (e.g. fewer batches than n_eval_reconstruction_batches); empty when none'),
  token_stats: z
    .object({
      prompts: z.number().int().describe('Context windows spliced'),
      batches: z.number().int().describe('Batches of batch_size_prompts windows'),
      total_tokens_eval_reconstruction: z.number().int().describe('Non-special tokens in the KL means'),
      total_tokens_eval_ce: z.number().int().describe('Tokens in the CE means (no target at a window end)'),
    })
    .describe('Token counts, the same for every SAE'),
  saes: z
    .record(
      z.string().describe('SAE label'),
      z
        .object({
          model_behavior_preservation: SpliceBehavior.describe('SAEBench core KL group'),
          model_performance_preservation: SplicePerformance.describe('SAEBench core CE group'),
          eval_result_uncertainty: EvalUncertainty.describe('Bootstrap intervals of the KL / CE numbers'),
        })
        .describe('One SAE'),
    )
    .describe('Per SAE, by label'),
});
export type SpliceEvalOutput = z.infer<typeof SpliceEvalOutput>;

const LetterDetail = z.object({
  first_letter: z.string().describe('Letter'),
  mean_absorption_fraction: num.describe('Mean absorption fraction over probe true positives'),
  full_absorption_rate: num.describe('Share of probe true positives fully absorbed'),
  num_full_absorption: z.number().int().describe('Fully absorbed words'),
  num_probe_true_positives: z.number().int().describe('Test words of the letter the probe detects'),
  num_split_features: z.number().int().describe('Main latents (k chosen by the F1-jump rule)'),
  probe_f1: z.number().describe('Test F1 of the residual probe'),
  split_feature_ids: z.array(z.number().int()).describe('Main latent ids'),
  k_sparse_f1: z.array(z.number()).describe('Test F1 of the k-sparse probe for k = 1, 2, ...'),
});

export const AbsorptionEvalOutput = z.object({
  ...EvalHeader,
  eval_config: AbsorptionEvalConfig.describe('Config used'),
  status: z
    .enum(['ok', 'ok_with_deviations', 'not_enough_valid_letters'])
    .describe('"ok_with_deviations": a number, computed with the departures listed in `deviations`; "not_enough_valid_letters": no letter (or, with allow_fewer_letters false, fewer than min_feats_for_eval) passed the probe F1, no number'),
  deviations: z.array(z.string()).describe("Departures from SAEBench's procedure behind this number (empty when none)"),
  letters_used: z.array(z.string()).describe('Letters the means run over (probe F1 > min_GT_probe_f1)'),
  eval_result_metrics: z
    .object({
      mean: z
        .object({
          mean_absorption_fraction_score: num.describe('Mean over letters_used'),
          mean_full_absorption_score: num.describe('Mean over letters_used'),
          mean_num_split_features: num.describe('Mean over letters_used'),
          std_dev_absorption_fraction_score: num.describe('Sample std over letters'),
          std_dev_full_absorption_score: num.describe('Sample std over letters'),
          std_dev_num_split_features: num.describe('Sample std over letters'),
        })
        .nullable()
        .describe('Null when status is not_enough_valid_letters'),
      words: z
        .object({
          train: z.number().int().describe('Train words'),
          test: z.number().int().describe('Test words'),
          valid_letters: z.number().int().describe('Letters whose probe F1 passed'),
        })
        .describe('Counts'),
    })
    .describe('SAEBench absorption metrics'),
  eval_result_details: z.array(LetterDetail).describe('Per letter used'),
  probe_f1: z.record(z.string(), z.number()).describe('Residual probe test F1 per letter (all 26)'),
  words_per_letter: z
    .record(z.string(), z.object({ train: z.number().int().describe('Train words'), test: z.number().int().describe('Test words') }))
    .describe('Words of each first letter in the train and test splits'),
  eval_result_uncertainty: EvalUncertainty.nullable().describe('Standard errors over letters (null without a number)'),
});
export type AbsorptionEvalOutput = z.infer<typeof AbsorptionEvalOutput>;

export const SparseProbingEvalOutput = z.object({
  ...EvalHeader,
  eval_config: SparseProbingEvalConfig.describe('Config used'),
  status: z.string().optional().describe('Set when no task could be probed'),
  deviations: z.array(z.string()).describe('Per task, departures from the requested sizes ("<task>: test_split_enlarged ...", "<task>: test_texts_below_minimum ...")'),
  eval_result_metrics: z
    .object({
      llm: z.record(z.string(), num).describe('llm_test_accuracy, llm_top_{k}_test_accuracy: means over tasks'),
      sae: z.record(z.string(), num).describe('sae_top_{k}_test_accuracy (and sae_test_accuracy): means over tasks'),
    })
    .describe('SAEBench sparse-probing metrics'),
  eval_result_details: z.array(z.record(z.string(), z.union([z.string(), num]))).describe('Per task: dataset_name, n_train_texts, n_test_texts and the accuracies'),
  eval_result_unstructured: z.record(z.string(), z.unknown()).describe('Per task, per class accuracies and n_test_examples'),
  eval_result_uncertainty: EvalUncertainty.describe('Binomial standard errors of every accuracy in eval_result_metrics'),
});
export type SparseProbingEvalOutput = z.infer<typeof SparseProbingEvalOutput>;

export const TemporalEvalOutput = z.object({
  ...EvalHeader,
  eval_config: TemporalEvalConfig.describe('Config used'),
  deviations: z.array(z.string()).optional().describe("Departures from the plain procedure behind these numbers (norm outliers left out)"),
  eval_result_metrics: z
    .object({
      temporal: z
        .object({
          temporal_instability: num.describe('mean_P ||f_t - f_t-1||^2 / mean_T ||f_t||^2'),
          mean_feature_instability: num.describe('Mean over alive latents of the per-latent instability'),
          median_feature_instability: num.describe('Median of the same'),
          lag1_autocorrelation: num.describe('Mean over alive latents of the lag-1 autocorrelation'),
          median_lag1_autocorrelation: num.describe('Median of the same'),
          n_clusters: z.number().int().nullable().describe('Clusters chosen by cluster_selection; 1 = no cluster structure (null: too few latents)'),
          cluster_selection: z.enum(['gap', 'silhouette']).describe('How n_clusters was chosen'),
          has_cluster_structure: z.boolean().nullable().describe('n_clusters > 1 (null: too few latents)'),
          silhouette: num.describe('Silhouette at the chosen k (null at k = 1)'),
          pairs: z.number().int().describe('Consecutive token pairs used'),
          tokens: z.number().int().describe('Non-special tokens analysed'),
        })
        .describe('Temporal summary'),
    })
    .describe('Summary numbers'),
  gap_statistic: z
    .object({
      k: z.array(z.number().int()).describe('Cluster counts tried'),
      log_w: z.array(z.number()).describe('log W_k of the profiles'),
      expected_log_w: z.array(z.number()).describe('Mean log W*_k over the reference sets'),
      gap: z.array(z.number()).describe('Gap(k)'),
      s_k: z.array(z.number()).describe('sd of log W*_k times sqrt(1 + 1/B)'),
      chosen_k: z.number().int().describe('k chosen by the rule'),
      at_search_limit: z.boolean().describe('No k below max_clusters satisfied the rule: Gap(k) still grows, structure without an elbow (continuous rather than discrete clusters)'),
      reference_sets: z.number().int().describe('B'),
      reference: z.string().describe('Reference distribution'),
      rule: z.string().describe('Selection rule'),
    })
    .nullable()
    .describe("Tibshirani et al. 2001 gap statistic (null under 'silhouette' or with too few latents)"),
  per_position: z
    .array(
      z.object({
        position: z.number().int().describe('Position in the window'),
        tokens: z.number().int().describe('Non-special tokens at this position'),
        l0: num.describe('Mean L0'),
        mse: num.describe('Mean ||x - xhat||^2'),
        explained_variance: num.describe('Explained variance against the mean of all evaluated tokens'),
      }),
    )
    .describe('Per-position metrics (Figure 3), always present'),
  analysis: z
    .object({
      positions: z.array(z.number().int()).describe('Sequence positions, ascending'),
      perPosition: z
        .object({
          l0: z.array(num).describe('[positions] mean L0'),
          explained_variance: z.array(num).describe('[positions] explained variance against the global mean'),
          mse: z.array(num).describe('[positions] MSE'),
          tokens: z.array(z.number().int()).describe('[positions] tokens'),
        })
        .describe('Per-position metrics (Figure 3)'),
      features: z.array(z.number().int()).describe('[n] clustered latent ids in dendrogram order'),
      activity: z.array(z.array(z.number())).describe('[n][positions] normalised firing-rate profile'),
      activityMeasure: z.string().describe('What activity holds'),
      linkage: z.array(z.array(z.number())).describe('[n-1][4] SciPy linkage over `features` in dendrogram order'),
      linkageMethod: z.string().describe('Linkage method'),
      clusters: z.array(z.number().int()).describe('[n] cluster id (1..nClusters)'),
      nClusters: z.number().int().describe('Chosen number of clusters'),
      criterion: z
        .object({
          name: z.string().describe('"gap" or "silhouette"'),
          value: num.describe('Gap or silhouette at the chosen k'),
          candidates: z
            .array(z.object({ k: z.number().int().describe('k'), score: z.number().describe('Gap(k) or silhouette'), std_error: z.number().optional().describe('s_k (gap only)') }))
            .describe('Every k tried'),
        })
        .describe('How nClusters was chosen'),
    })
    .nullable()
    .describe('Figure 1 / 3 data in the report schema shape (null when too few latents to cluster)'),
});
export type TemporalEvalOutput = z.infer<typeof TemporalEvalOutput>;

/** The run's combined metrics.json: variants as keys, one eval JSON per family (null if not run). */
export const RunMetrics = z.record(
  z.string().describe('Variant label'),
  z
    .object({
      core: CoreEvalOutput.nullable().describe('Core eval'),
      absorption: AbsorptionEvalOutput.nullable().describe('Absorption eval'),
      sparse_probing: SparseProbingEvalOutput.nullable().describe('Sparse probing eval'),
      temporal: TemporalEvalOutput.nullable().describe('Temporal eval'),
    })
    .describe('Eval JSON per family'),
);
export type RunMetrics = z.infer<typeof RunMetrics>;
