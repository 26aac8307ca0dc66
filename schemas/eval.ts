import { z } from 'zod';

/**
 * Evaluation config (one object per family, SAEBench field names where SAEBench has the knob)
 * and the eval outputs: one JSON per family per SAE, SAEBench-shaped (eval_config,
 * eval_result_metrics grouped like SAEBench's, eval_result_details), and the run's combined
 * metrics.json. Definitions behind every number: stages/evaluate/* and metrics.md.
 */
export const EVAL_FAMILIES = ['core', 'absorption', 'sparse_probing', 'temporal'] as const;
export type EvalFamily = (typeof EVAL_FAMILIES)[number];

export const CoreEvalConfig = z
  .object({
    batch_size_prompts: z.number().int().positive().default(16).describe('Context windows per batch; the legacy explained variance and the relative bias are per batch (SAEBench)'),
    n_eval_reconstruction_batches: z.number().int().positive().nullable().default(10).describe('Batches spliced into the model for KL / CE scores (null: all held-out windows); SAEBench: 10 batches x 16 prompts x 128 tokens'),
    n_eval_sparsity_variance_batches: z.number().int().positive().nullable().default(null).describe('Batches for reconstruction and sparsity metrics (null: all held-out windows)'),
    compute_splice: z.boolean().default(true).describe('Compute kl_div_score and ce_loss_score: once per run for all SAEs (evaluateSplice, splice.json), merged into each core.json; the per-SAE core eval never splices'),
    max_tokens_per_splice_call: z.number().int().positive().default(16384).describe('Memory bound of the run-level splice: tokens per model call counting every copy (clean, ablation, each SAE); a batch is split into sub-batches of windows, which changes no number'),
    massive_dim_share_threshold: z.number().gt(0).lt(1).default(0.05).describe("The *_without_massive_dims explained variances leave out residual dimensions whose share of E||x||^2 on the eval tokens exceeds this (at most 1/threshold dimensions)"),
    bootstrap_resamples: z.number().int().min(0).default(1000).describe('Bootstrap resamples of prompts for the intervals in eval_result_uncertainty (0: none)'),
    bootstrap_seed: z.number().int().nonnegative().default(0).describe('Seed of the bootstrap resample indices (the same rows serve every metric and every SAE: paired)'),
    bootstrap_max_units: z.number().int().positive().default(2000).describe('Largest number of resampling units: beyond it consecutive prompts are grouped into equal blocks (memory of the per-unit sums)'),
    confidence_level: z.number().gt(0).lt(1).default(0.95).describe('Two-sided coverage of the percentile intervals'),
    exclude_special_tokens_from_reconstruction: z.boolean().default(true).describe('Keep the clean activation at special positions when splicing the SAE in (SAELens with ignore_tokens)'),
    zero_ablate_special_tokens: z.boolean().default(true).describe('The zero ablation also zeroes special positions (SAELens zero_ablate_hook)'),
  })
  .strict();
export type CoreEvalConfig = z.infer<typeof CoreEvalConfig>;

export const AbsorptionEvalConfig = z
  .object({
    random_seed: z.number().int().nonnegative().default(42).describe('Seed of the word split, the vocabulary sample and the in-context examples'),
    prompt_template: z.string().includes('{word}').default('{word} has the first letter:').describe('Prompt; "{word}" is replaced by the word'),
    prompt_token_pos: z.number().int().negative().default(-6).describe("Token read, counted from the prompt's end (-6: the word's last token for Gemma)"),
    max_icl_examples: z.number().int().nonnegative().default(10).describe('In-context examples before the word'),
    train_test_fraction: z.number().gt(0).lt(1).default(0.8).describe('Share of words used to train the probes'),
    vocab_limit: z.number().int().positive().nullable().default(8000).describe('Without stratification: sample at most this many alphabetic vocabulary words (null: all; SAEBench uses all, CPU budgets need fewer)'),
    stratify_by_letter: z.boolean().default(true).describe('Draw train_words_per_letter / test_words_per_letter words for every first letter (a uniform vocabulary sample leaves rare letters with 0-3 test words); false: SAEBench sampling (vocab_limit, train_test_fraction)'),
    train_words_per_letter: z.number().int().positive().default(64).describe('Stratified: train words per first letter (fewer when the vocabulary has fewer; the train : test ratio is kept)'),
    test_words_per_letter: z.number().int().positive().default(24).describe('Stratified: test words per first letter'),
    allow_fewer_letters: z.boolean().default(true).describe('When fewer than min_feats_for_eval letters pass the probe F1, still report absorption on those that pass, labelled in `deviations` (false: SAEBench behaviour, no number)'),
    confidence_level: z.number().gt(0).lt(1).default(0.95).describe('Coverage of the intervals in eval_result_uncertainty (normal approximation over letters)'),
    llm_batch_size: z.number().int().positive().default(32).describe('Prompts per model batch'),
    ground_truth_weight_decay: z.number().nonnegative().default(1e-4).describe('Weight decay of the residual probes (SAEBench probe training)'),
    k_sparse_probe_l1_decay: z.number().nonnegative().default(0.01).describe('L1 decay of the latent-ranking probe (SAEBench)'),
    k_sparse_probe_weight_decay: z.number().nonnegative().default(1e-6).describe('Weight decay of the latent-ranking probe (SAEBench)'),
    k_sparse_probe_max_iterations: z.number().int().positive().default(2000).describe('FISTA iterations cap for the latent-ranking probe (solved to convergence, not 50 Adam epochs)'),
    max_k_value: z.number().int().positive().default(10).describe('Largest k of the k-sparse probes'),
    f1_jump_threshold: z.number().nonnegative().default(0.03).describe('k grows while the k-sparse F1 improves by more than this (split features)'),
    min_GT_probe_f1: z.number().min(0).max(1).default(0.6).describe('A letter counts when its residual probe has test F1 above this'),
    min_feats_for_eval: z.number().int().positive().default(20).describe('Letters needed, else the result is "not enough valid letters"'),
    full_absorption_probe_cos_threshold: z.number().default(0.025).describe('Full absorption: minimum cos(top latent decoder, probe)'),
    absorption_fraction_probe_cos_threshold: z.number().default(0.1).describe('Absorption fraction: minimum cos(absorber decoder, probe)'),
    probe_projection_proportion_threshold: z.number().default(0.4).describe('Share of the probe projection absorbers must carry'),
    absorption_fraction_max_absorbing_latents: z.number().int().positive().default(3).describe('Most absorbers counted per word'),
  })
  .strict();
export type AbsorptionEvalConfig = z.infer<typeof AbsorptionEvalConfig>;

export const SparseProbingEvalConfig = z
  .object({
    random_seed: z.number().int().nonnegative().default(42).describe('Seed of the class pools and the negative sampling'),
    probe_train_set_size: z.number().int().positive().default(4000).describe('Train examples per one-vs-rest probe (half positive)'),
    probe_test_set_size: z.number().int().positive().default(1000).describe('Test examples per one-vs-rest probe (half positive)'),
    context_length: z.number().int().positive().default(128).describe('Tokens per text (truncated), BOS included'),
    llm_batch_size: z.number().int().positive().default(16).describe('Texts per model batch'),
    k_values: z.array(z.number().int().positive()).min(1).default([1, 2, 5]).describe('Numbers of features the sparse probes use'),
    include_llm_full_probe: z.boolean().default(true).describe('Also probe all residual dimensions (llm_test_accuracy)'),
    include_sae_full_probe: z.boolean().default(false).describe('Also probe all latents (sae_test_accuracy); slow for wide SAEs'),
    min_examples_per_class: z.number().int().positive().default(20).describe('Classes with fewer examples are dropped'),
    tasks: z.array(z.string()).nullable().default(null).describe('Task names to run (null: every task given)'),
    dataset_files: z.array(z.string()).default([]).describe('Extra SAEBench-style (text, label) files (.jsonl / .csv) to probe'),
    min_test_texts_per_task: z.number().int().nonnegative().default(500).describe("When a task's test pools hold fewer texts, train texts move to test (each class keeps at least half its texts for training); a task still short is labelled in `deviations`"),
    confidence_level: z.number().gt(0).lt(1).default(0.95).describe('Coverage of the intervals in eval_result_uncertainty (binomial standard errors, normal approximation)'),
  })
  .strict();
export type SparseProbingEvalConfig = z.infer<typeof SparseProbingEvalConfig>;

export const TemporalEvalConfig = z
  .object({
    batch_size_prompts: z.number().int().positive().default(16).describe('Context windows per SAE batch'),
    n_batches: z.number().int().positive().nullable().default(null).describe('Batches analysed (null: all held-out windows)'),
    linkage_method: z.enum(['ward', 'average', 'complete', 'single', 'weighted']).default('ward').describe('Hierarchical clustering linkage'),
    profile_normalization: z.enum(['mean', 'zscore', 'none']).default('mean').describe("How a latent's position profile is normalised before clustering"),
    cluster_max_features: z.number().int().min(3).default(512).describe('Cluster at most this many latents (the densest alive ones)'),
    cluster_selection: z.enum(['gap', 'silhouette']).default('gap').describe("How the cluster count is chosen: 'gap' (Tibshirani et al. 2001; k = 1, no structure, is a possible answer) or 'silhouette' (k >= 2 only)"),
    min_clusters: z.number().int().min(1).default(1).describe('Smallest cluster count tried (1 = no structure; silhouette, undefined for one cluster, starts at 2)'),
    max_clusters: z.number().int().min(2).default(10).describe('Largest cluster count tried'),
    gap_reference_sets: z.number().int().min(2).default(20).describe('Gap statistic: reference data sets (B in Tibshirani et al. 2001)'),
    gap_reference: z
      .enum(['uniform', 'permuted'])
      .default('uniform')
      .describe("Gap statistic null: 'uniform' over each position's range (Tibshirani et al. 2001, reference (a)) or 'permuted' (each latent's profile shuffled across positions: tests any position dependence)"),
    random_seed: z.number().int().nonnegative().default(42).describe('Seed of the gap statistic reference data sets'),
    write_activity_matrix: z.boolean().default(true).describe('Write the full latent x position firing-rate matrix (float32 .bin)'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.max_clusters < c.min_clusters) ctx.addIssue({ code: 'custom', path: ['max_clusters'], message: `must be >= min_clusters (${c.min_clusters})` });
  });
export type TemporalEvalConfig = z.infer<typeof TemporalEvalConfig>;

/** `spec.evaluate.options`: one optional object per family, defaults filled in. */
export const EvalOptions = z
  .object({
    core: CoreEvalConfig.default(CoreEvalConfig.parse({})).describe('Core metrics options'),
    absorption: AbsorptionEvalConfig.default(AbsorptionEvalConfig.parse({})).describe('Absorption options'),
    sparse_probing: SparseProbingEvalConfig.default(SparseProbingEvalConfig.parse({})).describe('Sparse probing options'),
    temporal: TemporalEvalConfig.default(TemporalEvalConfig.parse({})).describe('Temporal analysis options'),
  })
  .strict();
export type EvalOptions = z.infer<typeof EvalOptions>;

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
