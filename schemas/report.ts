import { z } from 'zod';

/**
 * Input of the report stage (`writeReport`): run facts, per-variant eval metrics, training
 * logs, temporal analysis and feature-browser data. Eval families are kept permissive (any
 * JSON object) because the report looks metrics up by their SAEBench field names wherever
 * they sit (flat, or nested as SAEBench's `eval_result_metrics.<group>.<field>`), so both our
 * eval JSON and SAEBench's own files can be reported. Parsed once at the edge.
 */

const num = z.number();
const finiteOrNull = z.number().nullable();

export const ReportVersions = z
  .looseObject({
    node: z.string().describe('Node.js version that ran the pipeline, e.g. "v20.20.2"'),
    onnxruntime: z.string().describe('onnxruntime-node version'),
    temporalSdk: z.string().describe('@temporalio/* SDK version'),
    tsae: z.string().optional().describe('temporal-sae package version'),
  })
  .describe('Versions of the software that produced the run; extra string keys are shown as given');
export type ReportVersions = z.infer<typeof ReportVersions>;

export const StageTiming = z.object({
  name: z.string().describe('Stage name as the workflow records it, e.g. "tokenize:shard-0" or "atr/train"'),
  status: z.string().optional().describe('Final status of the stage (done, cancelled, ...)'),
  durationS: finiteOrNull.describe('Wall time in seconds, or null when unknown'),
  cacheHit: z.boolean().optional().describe('True when the artifact came from the cache (no work done)'),
  startedAt: z.string().optional().describe('ISO start time'),
  finishedAt: z.string().optional().describe('ISO end time'),
});
export type StageTiming = z.infer<typeof StageTiming>;

export const TemporalLink = z.object({
  label: z.string().describe('What the link opens, e.g. "pipeline workflow" or "atr child workflow"'),
  url: z.string().describe('URL of the workflow in the Temporal Web UI'),
});

export const RunFacts = z.object({
  runId: z.string().min(1).describe('Workflow id of the run'),
  generatedAt: z.string().describe('ISO time the report input was assembled'),
  spec: z.record(z.string(), z.unknown()).describe('The validated run spec (schemas/run-spec.ts), shown verbatim'),
  model: z
    .looseObject({
      source: z.string().describe('Model source as given in the spec'),
      layer: z.number().int().nonnegative().describe('Hooked block index L'),
      architecture: z.string().optional().describe('Model architecture, e.g. "gemma3_text"'),
      dModel: z.number().int().positive().optional().describe('Residual width d_model'),
      nLayers: z.number().int().positive().optional().describe('Number of blocks'),
      vocabSize: z.number().int().positive().optional().describe('Vocabulary size'),
    })
    .describe('The model activations were read from'),
  tokens: z
    .looseObject({
      train: finiteOrNull.describe('Training tokens actually extracted'),
      eval: finiteOrNull.describe('Held-out evaluation tokens actually extracted'),
    })
    .describe('Token counts; extra numeric keys (e.g. corpus tokens) are shown as given'),
  device: z.string().describe('Device that actually ran model and SAE compute (cpu, cuda, webgpu)'),
  stages: z.array(StageTiming).describe('Per-stage durations in workflow order'),
  versions: ReportVersions,
  temporalLinks: z.array(TemporalLink).default([]).describe('Links to the run in the Temporal Web UI'),
});
export type RunFacts = z.infer<typeof RunFacts>;

export const EVAL_FAMILY_NAMES = ['core', 'absorption', 'sparse_probing', 'temporal'] as const;
export type EvalFamilyName = (typeof EVAL_FAMILY_NAMES)[number];

const EvalFamily = z
  .record(z.string(), z.unknown())
  .nullable()
  .default(null)
  .describe('One eval JSON of this SAE (ours or SAEBench-shaped), or null when the family did not run');

export const VariantMetrics = z.object({
  core: EvalFamily.describe('Core metrics: explained_variance, explained_variance_legacy, mse, l0, l1, l2_ratio, relative_reconstruction_bias, kl_div_score, ce_loss_score, frac_alive, ...'),
  absorption: EvalFamily.describe('Absorption (first letter): mean_absorption_fraction_score, mean_full_absorption_score, mean_num_split_features'),
  sparse_probing: EvalFamily.describe('Sparse probing: sae_top_{1,2,5}_test_accuracy, llm_test_accuracy, ...'),
  temporal: EvalFamily.describe('Temporal summary numbers (stability, autocorrelation, chosen cluster count)'),
});
export type VariantMetrics = z.infer<typeof VariantMetrics>;

/**
 * One `metrics.jsonl` line of the trainer. Only `step` is required; loss terms come as a `terms`
 * object, as flat `loss_<term>` keys, or as the trainer's flat term keys (mse, l1, aux_mse,
 * auxk, l0_penalty, temporal); other numeric keys (grad_norm, threshold, ...) are kept.
 */
export const TrainLogRow = z.looseObject({
  step: z.number().int().nonnegative().describe('Optimizer step (1-based or 0-based, as the trainer writes it)'),
  tokens: num.optional().describe('Training tokens seen so far'),
  loss: num.optional().describe('Total loss'),
  terms: z.record(z.string(), num).optional().describe('Loss terms by name (mse, l1, auxk, temporal, ...)'),
  l0: num.optional().describe('Mean active latents per token in the batch'),
  explained_variance: num.optional().describe('Batch explained variance (pooled definition)'),
  dead_pct: num.optional().describe('Percent of latents dead (not fired within the dead window)'),
  lr: num.optional().describe('Learning rate'),
  lambda_t: num.optional().describe('ATR adaptive L1 coefficient lambda_t (Eq. 4)'),
  alpha_t: num.optional().describe('ATR adaptive temporal coefficient alpha_t (Eq. 3)'),
  tokens_per_s: num.optional().describe('Training throughput'),
});
export type TrainLogRow = z.infer<typeof TrainLogRow>;

/** Temporal analysis of one SAE (the paper's Figures 1 and 3), from the temporal eval. */
export const TemporalAnalysis = z
  .object({
    positions: z.array(z.number().int()).min(1).describe('Sequence positions (x axis), ascending'),
    perPosition: z
      .object({
        l0: z.array(finiteOrNull).describe('[positions] mean L0 at each position'),
        explained_variance: z.array(finiteOrNull).describe('[positions] explained variance (pooled) at each position'),
        mse: z.array(finiteOrNull).describe('[positions] MSE at each position'),
      })
      .describe('Per-position reconstruction and sparsity'),
    features: z.array(z.number().int().nonnegative()).describe('[n] latent ids of the clustered features (rows of activity)'),
    activity: z.array(z.array(num)).describe('[n][positions] activity of each feature at each position'),
    activityMeasure: z.string().default('firing rate').describe('What activity holds, e.g. "firing rate" or "mean activation"'),
    linkage: z.array(z.array(num).length(4)).describe('[n-1][4] SciPy linkage matrix over `features` (a, b, distance, size)'),
    linkageMethod: z.string().default('ward').describe('Linkage method, e.g. ward'),
    clusters: z.array(z.number().int()).describe('[n] flat cluster id of each feature (1..nClusters)'),
    nClusters: z.number().int().positive().describe('Chosen number of clusters'),
    criterion: z
      .object({
        name: z.string().describe('Criterion used to choose nClusters, e.g. "silhouette"'),
        value: finiteOrNull.optional().describe('Criterion value at the chosen k'),
        candidates: z
          .array(z.object({ k: z.number().int().describe('Candidate number of clusters'), score: num.describe('Criterion value at k') }))
          .optional()
          .describe('Criterion per candidate k'),
      })
      .describe('How the number of clusters was chosen'),
  })
  .superRefine((t, ctx) => {
    const n = t.features.length;
    const p = t.positions.length;
    if (t.activity.length !== n) ctx.addIssue({ code: 'custom', path: ['activity'], message: `activity has ${t.activity.length} rows, features has ${n}` });
    t.activity.forEach((row, i) => {
      if (row.length !== p) ctx.addIssue({ code: 'custom', path: ['activity', i], message: `row has ${row.length} values, positions has ${p}` });
    });
    for (const key of ['l0', 'explained_variance', 'mse'] as const) {
      if (t.perPosition[key].length !== p) ctx.addIssue({ code: 'custom', path: ['perPosition', key], message: `has ${t.perPosition[key].length} values, positions has ${p}` });
    }
    if (n > 1 && t.linkage.length !== n - 1) ctx.addIssue({ code: 'custom', path: ['linkage'], message: `needs ${n - 1} rows for ${n} features, has ${t.linkage.length}` });
    if (t.clusters.length !== n) ctx.addIssue({ code: 'custom', path: ['clusters'], message: `has ${t.clusters.length} ids, features has ${n}` });
  });
export type TemporalAnalysis = z.infer<typeof TemporalAnalysis>;

const TokenValue = z.object({ token: z.string().describe('Decoded token text'), value: num.describe('Logit change per unit of the latent') });

export const LatentContext = z.object({
  tokens: z.array(z.string()).describe('[w] decoded tokens of the window around the max'),
  acts: z.array(num).describe('[w] activation of this latent on each window token'),
  maxIndex: z.number().int().nonnegative().describe('Index in the window of the activating token'),
  tokenIndex: z.number().int().nonnegative().describe('Row of the held-out activation table of the activating token'),
});
export type LatentContext = z.infer<typeof LatentContext>;

export const LatentSummary = z.object({
  id: z.number().int().nonnegative().describe('Latent index'),
  density: num.describe('Fraction of scanned non-special tokens where the latent is > 0'),
  meanActivation: num.describe('Mean activation over the tokens where it fires'),
  maxActivation: num.describe('Largest activation seen'),
  cluster: z.number().int().nullable().describe('Temporal cluster id, or null when not clustered'),
  selectedBy: z.enum(['frequent', 'sample', 'requested']).describe('Why the latent is in the browser'),
  contexts: z.array(LatentContext).describe('Top-activating contexts, strongest first'),
  histogram: z
    .object({ edges: z.array(num).describe('[b+1] bin edges, ascending'), counts: z.array(num).describe('[b] tokens per bin') })
    .describe('Histogram of the non-zero activations'),
  logitsUp: z.array(TokenValue).describe('Tokens whose logits W_dec[i] @ W_U^T raises most'),
  logitsDown: z.array(TokenValue).describe('Tokens whose logits it lowers most'),
});
export type LatentSummary = z.infer<typeof LatentSummary>;

export const FeatureBrowserVariant = z.object({
  dSae: z.number().int().positive().describe('Latents of the SAE'),
  tokensScanned: z.number().int().nonnegative().describe('Non-special held-out tokens encoded'),
  aliveLatents: z.number().int().nonnegative().describe('Latents that fired at least once'),
  latents: z.array(LatentSummary).describe('The browsed latents (a bounded selection)'),
});
export type FeatureBrowserVariant = z.infer<typeof FeatureBrowserVariant>;

export const VariantReport = z.object({
  label: z.string().min(1).describe('Label of the SAE (spec variant name)'),
  variant: z.string().describe('Architecture: standard, topk, batchtopk, jumprelu, gated, atr'),
  dSae: z.number().int().positive().optional().describe('Latents of the SAE'),
  hyperparameters: z.record(z.string(), z.unknown()).default({}).describe('Resolved training config, shown verbatim'),
  seed: z.number().int().nullable().default(null).describe("Seed of the SAE's initialisation and batch order (null for external SAEs)"),
  mechanisms: z.record(z.string(), z.unknown()).nullable().default(null).describe('What each training mechanism did (TrainSummary.mechanisms: sparsity control, AuxK, resampling, alpha_t, thresholds, dead latents)'),
  metrics: VariantMetrics.describe('Eval JSON per family'),
  trainingLog: z.array(TrainLogRow).default([]).describe('Rows of the trainer metrics.jsonl (the report downsamples them)'),
  featureDensity: z.array(num).nullable().default(null).describe('[dSae] firing density of every latent on the eval tokens (for the sparsity distribution)'),
  temporal: TemporalAnalysis.nullable().default(null).describe('Temporal analysis, or null when it did not run'),
  features: FeatureBrowserVariant.nullable().default(null).describe('Feature-browser data (collectFeatureBrowserData), or null'),
});
export type VariantReport = z.infer<typeof VariantReport>;

export const ReportInput = z
  .object({
    run: RunFacts.describe('Facts about the run: spec, model, tokens, device, durations, versions, links'),
    variants: z.array(VariantReport).min(1).describe('One entry per SAE, in spec order'),
  })
  .superRefine((input, ctx) => {
    const seen = new Set<string>();
    input.variants.forEach((v, i) => {
      if (seen.has(v.label)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'label'], message: `duplicate variant label '${v.label}'` });
      seen.add(v.label);
    });
  });
export type ReportInput = z.infer<typeof ReportInput>;
export type ReportInputRaw = z.input<typeof ReportInput>;
