import { z } from 'zod';
import { CorpusConfig, TokenizeConfig } from './corpus.js';
import { EvalOptions, EVAL_FAMILIES } from './eval.js';
import { ExternalSaeEntry } from './external-sae.js';
import { variantLabel } from './derived.js';
import { runCount, TrainConfig } from './train.js';
import { DEVICES } from '../lib/core/devices.js';

/**
 * The run spec: everything that determines a pipeline run's artifacts. Parsed once at the edge
 * (CLI), then passed to the workflow as plain JSON. Stage-specific sections are refined by the
 * stage schemas; derived values come from pure functions in workflows/plan.ts.
 */
export const VARIANT_NAMES = ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr'] as const;

export const ModelSpec = z
  .object({
    source: z
      .string()
      .min(1)
      .describe(
        "Model to read activations from: a registry model ('gemma3-270m', 'smollm2-135m'), a folder in the transformers.js layout, a GGUF file, or a Hugging Face id ('google/gemma-2-2b', needs hub access)",
      ),
    layer: z.number().int().nonnegative().describe('Block index L; the residual stream after block L is hooked (HF hidden_states[L+1], SAELens blocks.L.hook_resid_post)'),
  })
  .strict();

export const CorpusSpec = CorpusConfig.omit({ path: true })
  .extend({
    source: z
      .string()
      .min(1)
      .describe("'demo' (the mini-pile built from registry packages), or a file, directory or glob of *.jsonl, *.jsonl.zst, *.parquet in The Pile layout"),
  })
  .strict();

export const TokenizeSpec = TokenizeConfig.omit({ tokenizer: true })
  .extend({
    tokenizer: z
      .string()
      .default('model')
      .describe(
        "'model' (the model's own tokenizer.json), 'gemma2' (Gemma-2, vocab 256,000), 'gemma3' (vocab 262,144), or a folder with tokenizer.json. Its ids must fit the model's vocabulary; one that is not the model's own also needs allowForeignTokenizer",
      ),
    allowForeignTokenizer: z
      .boolean()
      .default(false)
      .describe(
        "Use a tokenizer that is not the model's own (its id table differs from the model's tokenizer.json) although its ids fit, e.g. the Gemma-2 tokenizer with a Gemma 3 model; the ids then name other tokens to the model. Ids that do not fit are refused either way",
      ),
  })
  .strict();

export const TokensSpec = z
  .object({
    train: z.number().int().positive().describe('Training token budget (the paper: 10,000,000)'),
    eval: z.number().int().positive().describe('Held-out tokens for the evaluations'),
  })
  .strict();

export const ExtractSpec = z
  .object({
    dtype: z.enum(['float16', 'float32']).default('float16').describe('Storage dtype of activation shards (math is always fp32)'),
    batchSize: z.number().int().positive().default(16).describe('Context windows per forward pass'),
    rowsPerShard: z.number().int().positive().default(512).describe('Context windows per activation shard (the unit of fan-out and caching)'),
  })
  .strict();

export const VariantSpec = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).optional().describe('Label of this SAE in reports; defaults to the variant name'),
    variant: z.enum(VARIANT_NAMES).describe(`SAE architecture: ${VARIANT_NAMES.join(', ')}`),
    seed: z.number().int().nonnegative().optional().describe("Seed of this SAE's initialisation and batch order (default: the spec's seed); several seeds of one setting give error bars"),
    hyperparameters: z.record(z.string(), z.unknown()).default({}).describe('Variant hyperparameters (see schemas/train.ts), overriding the train section'),
  })
  .strict();

export const SaeSpec = z
  .object({
    dSae: z.number().int().positive().describe('Number of latents of the trained variants (the paper: 65,536)'),
    targetL0: z
      .number()
      .positive()
      .optional()
      .describe(
        'Matched sparsity: the L0 every trained variant reaches by its own means (topk and batchtopk: k; standard, gated and atr: a controller on the sparsity coefficient; jumprelu: a target-L0 penalty). A variant\'s own hyperparameters (k, targetL0, sparsityControl: fixed) override it. The paper: 320 of d_model 2304',
      ),
    variants: z.array(VariantSpec).default([]).describe('SAEs to train, each as its own child workflow'),
    external: z
      .array(ExternalSaeEntry)
      .default([])
      .describe('SAEs trained elsewhere (SAELens, sparsify or dictionary_learning folders), evaluated beside or instead of the trained variants'),
  })
  .strict();

export const TrainSpec = z
  .object({
    batchSize: z.number().int().positive().default(2048).describe('Tokens per step (the paper: 2048)'),
    lr: z.number().positive().default(5e-4).describe('Peak learning rate (the paper: 5e-4)'),
    warmupSteps: runCount(0.1, 'Linear LR warm-up steps (the paper: 2000)'),
    epochs: z.number().positive().default(1).describe('Passes over the training activations: steps = floor(tokens.train x epochs / batchSize); every epoch is reshuffled, so a run can train more steps than it has tokens'),
    lrDecay: z.enum(['cosine', 'linear', 'none']).default('cosine').describe('Decay after warm-up (the paper: cosine)'),
    gradClip: z.number().positive().nullable().default(0.1).describe('Max global gradient norm, or null (the paper: 0.1)'),
    checkpointEvery: z.number().int().positive().default(100).describe('Steps between checkpoints'),
    hyperparameters: z.record(z.string(), z.unknown()).default({}).describe('Defaults shared by all variants (see schemas/train.ts)'),
  })
  .strict();

export const EvaluateSpec = z
  .object({
    families: z.array(z.enum(EVAL_FAMILIES)).default([...EVAL_FAMILIES]).describe(`Eval families to run: ${EVAL_FAMILIES.join(', ')}`),
    options: EvalOptions.default(EvalOptions.parse({})).describe('Per-family options (see schemas/eval.ts)'),
  })
  .strict();

export const TemporalSpec = z
  .object({
    heartbeatTimeoutSeconds: z.number().int().min(5).default(30).describe('A worker that sends no heartbeat for this long is presumed dead and its activity is retried elsewhere'),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Failed attempts of a stage before the run waits for `tsae resume` (bad input or config fails the run at once; infrastructure interruptions such as a worker shutdown are retried without counting)'),
    stallSeconds: z.number().int().min(10).default(600).describe('A stage that reports no progress for this long is stopped and its attempt fails as STALLED'),
    awaitResumeHours: z
      .number()
      .positive()
      .optional()
      .describe('How long a stage may wait for `tsae resume` before the run fails visibly (scheduled runs set it; default: wait indefinitely)'),
    fanOutWindow: z.number().int().min(1).max(256).default(8).describe('Activities of one fan-out (tokenize, extract) in flight at once per batch workflow'),
    fanOutBatch: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .default(200)
      .describe('Units per batch workflow of a fan-out; larger plans become a tree of child workflows, so no history grows with the corpus'),
  })
  .strict();

export const RunSpecBase = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'lowercase letters, digits and dashes, at most 41 characters').describe('Run name (prefix of the workflow id)'),
    preset: z.string().optional().describe('Preset the spec came from, if any (informational)'),
    seed: z.number().int().nonnegative().default(0).describe('Seed for every random choice (splits, shuffles, initialisation)'),
    cacheSalt: z
      .string()
      .max(80)
      .optional()
      .describe('Part of the cache keys of training and everything after it: a new salt retrains and re-evaluates from scratch while reusing the corpus, tokens and activations (nightly reproductions set it)'),
    device: z.enum(DEVICES).default('cpu').describe('Where model and SAE compute runs; cuda/webgpu route those activities to the gpu task queue'),
    threads: z.number().int().nonnegative().default(0).describe('onnxruntime intra-op threads per activity (0: all cores)'),
    model: ModelSpec.describe('The language model and the hooked layer'),
    corpus: CorpusSpec.describe('The text corpus (The Pile layout) and how bad records are handled'),
    tokenize: TokenizeSpec.default(TokenizeSpec.parse({})).describe('Tokenizer, context windows, packing and the train/val/test split'),
    tokens: TokensSpec.describe('Token budgets: training tokens and held-out evaluation tokens'),
    extract: ExtractSpec.default(ExtractSpec.parse({})).describe('Activation extraction: storage dtype, batch, fan-out unit'),
    sae: SaeSpec.describe('The SAEs to train: width and variants'),
    train: TrainSpec.default(TrainSpec.parse({})).describe('Training settings shared by all variants'),
    evaluate: EvaluateSpec.default(EvaluateSpec.parse({})).describe('Evaluation families and their options'),
    temporal: TemporalSpec.default(TemporalSpec.parse({})).describe('Temporal (the orchestrator) retry and heartbeat settings'),
  })
  .strict();

export const RunSpec = RunSpecBase.superRefine((spec, ctx) => {
    if (spec.sae.variants.length === 0 && spec.sae.external.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['sae', 'variants'], message: 'name at least one SAE: a variant to train or an external SAE (sae.external)' });
    }
    const labels = spec.sae.variants.map((v) => v.name ?? v.variant);
    labels.forEach((label, i) => {
      if (labels.indexOf(label) !== i) {
        ctx.addIssue({ code: 'custom', path: ['sae', 'variants', i, 'name'], message: `duplicate variant label '${label}'; give each a distinct name` });
      }
    });
    spec.sae.external.forEach((entry, i) => {
      if (labels.includes(entry.name) || spec.sae.external.findIndex((e) => e.name === entry.name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['sae', 'external', i, 'name'], message: `label '${entry.name}' is already used by another SAE of this spec; give each a distinct name` });
      }
    });
    if (spec.tokens.train < spec.train.batchSize) {
      ctx.addIssue({ code: 'custom', path: ['tokens', 'train'], message: `must be at least train.batchSize (${spec.train.batchSize})` });
      return;
    }
    spec.sae.variants.forEach((_, i) => {
      const parsed = TrainConfig.safeParse(trainConfigInput(spec, i));
      if (parsed.success) return;
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', path: specPathOf(spec, i, issue.path), message: `${variantLabel(spec.sae.variants[i])}: ${issue.message}` });
      }
    });
  });
export type RunSpec = z.infer<typeof RunSpec>;
export type RunSpecInput = z.input<typeof RunSpec>;

export { variantLabel };

/** Training steps implied by the token budget and the number of epochs over it. */
export function trainingSteps(spec: Pick<RunSpec, 'tokens' | 'train'>): number {
  return Math.max(1, Math.floor((spec.tokens.train * spec.train.epochs) / spec.train.batchSize));
}

/**
 * The trainer's config of variant `index`: shared training settings, then the train section's
 * hyperparameters, then the variant's own (later wins). Validated by TrainConfig.
 */
export function trainConfigInput(spec: z.infer<typeof RunSpecBase>, index: number): Record<string, unknown> {
  const variant = spec.sae.variants[index];
  // epochs only sets steps (trainingSteps); the trainer's stream starts new epochs by itself.
  const { hyperparameters, epochs: _epochs, ...shared } = spec.train;
  return {
    variant: variant.variant,
    dSae: spec.sae.dSae,
    steps: trainingSteps(spec),
    ...shared,
    hookName: `blocks.${spec.model.layer}.hook_resid_post`,
    modelName: spec.model.source,
    contextSize: spec.tokenize.contextLength,
    ...(spec.sae.targetL0 !== undefined && !('k' in variant.hyperparameters) && !('k' in hyperparameters) ? { targetL0: spec.sae.targetL0 } : {}),
    ...hyperparameters,
    ...variant.hyperparameters,
  };
}

export function trainConfigFor(spec: RunSpec, index: number): TrainConfig {
  return TrainConfig.parse(trainConfigInput(spec, index));
}

/** Where in the spec a trainer-config field of variant `index` came from (for error messages). */
function specPathOf(spec: z.infer<typeof RunSpecBase>, index: number, path: PropertyKey[]): PropertyKey[] {
  const field = String(path[0] ?? '');
  if (field in spec.sae.variants[index].hyperparameters) return ['sae', 'variants', index, 'hyperparameters', ...path];
  if (field in spec.train.hyperparameters) return ['train', 'hyperparameters', ...path];
  if (field in spec.train) return ['train', ...path];
  if (field === 'dSae') return ['sae', 'dSae'];
  if (field === 'targetL0' && spec.sae.targetL0 !== undefined) return ['sae', 'targetL0'];
  if (field === 'steps') return ['tokens', 'train'];
  return ['sae', 'variants', index, ...path];
}
