import { z } from 'zod';

/**
 * Evaluation config: one object per family, SAEBench field names where SAEBench has the knob
 * (spec.evaluate.options). Outputs: schemas/eval-outputs.ts; both re-exported by schemas/eval.ts.
 */
export const EVAL_FAMILIES = ['core', 'absorption', 'sparse_probing', 'temporal'] as const;
export type EvalFamily = (typeof EVAL_FAMILIES)[number];

export const CoreEvalConfig = z
  .object({
    batch_size_prompts: z.number().int().positive().default(16).describe('Context windows per batch; the legacy explained variance and the relative bias are per batch (SAEBench)'),
    n_eval_reconstruction_batches: z.number().int().positive().nullable().default(10).describe('Batches spliced into the model for KL / CE scores (null: all held-out windows); SAEBench: 10 batches x 16 prompts x 128 tokens'),
    n_eval_sparsity_variance_batches: z.number().int().positive().nullable().default(null).describe('Batches for reconstruction and sparsity metrics (null: all held-out windows)'),
    exclude_norm_outliers: z.boolean().default(true).describe("Leave out tokens whose residual norm exceeds the SAE's training norm cut (cfg.json metadata.max_activation_norm; none for external SAEs), as training did (dictionary_learning max_activation_norm_multiple); labelled in `deviations` (SAEBench keeps them); applies to the splice too (the smallest cut of the run's SAEs)"),
    compute_splice: z.boolean().default(true).describe('Compute kl_div_score and ce_loss_score: once per run for all SAEs (evaluateSplice, splice.json), merged into each core.json; the per-SAE core eval never splices'),
    max_tokens_per_splice_call: z.number().int().positive().default(8192).describe('Memory bound of the run-level splice: tokens per model call counting every copy (clean, ablation, each SAE); a batch is split into sub-batches of windows, which changes no number'),
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
    train_words_per_letter: z.number().int().positive().default(128).describe('Stratified: train words per first letter (fewer when the vocabulary has fewer; the train : test ratio is kept). On Gemma 3 270M layer 6, 128 lets 23 of 26 letters pass the probe F1 (64: 19)'),
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
    exclude_norm_outliers: z.boolean().default(true).describe("Leave out tokens whose residual norm exceeds the SAE's training norm cut (cfg.json metadata.max_activation_norm; none for external SAEs), as training did (dictionary_learning max_activation_norm_multiple); labelled in `deviations` (SAEBench keeps them)"),
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

