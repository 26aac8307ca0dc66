import type { RunSpecInput } from './run-spec.js';

/**
 * Built-in run specs. `paper` is the paper's setting (Section 5); `demo` is small but real
 * (Gemma 3 270M on the mini-pile, about 15 minutes on 2 CPU cores); `smoke` runs the whole
 * DAG on tiny committed fixtures in about 2 minutes (CI).
 */
const ALL_VARIANTS = [
  { variant: 'standard' },
  { variant: 'topk' },
  { variant: 'batchtopk' },
  { variant: 'jumprelu' },
  { variant: 'gated' },
  { variant: 'atr' },
] as const;

export const PRESETS = {
  paper: {
    name: 'paper',
    preset: 'paper',
    seed: 0,
    device: 'cpu',
    model: { source: 'google/gemma-2-2b', layer: 12 },
    corpus: { source: 'data/pile-uncopyrighted/train', badInput: 'skip', limits: { maxDocChars: 1_000_000, maxTokensPerShard: 1_000_000 } },
    // The eval budget (4.1M tokens) needs a test split of about 30%: with the default 1% it would
    // take some 410M tokens of corpus to hold out 4.1M.
    tokenize: { tokenizer: 'gemma2', contextLength: 128, packing: 'pack', splits: { train: 0.7, val: 0.01, test: 0.29 } },
    tokens: { train: 10_000_000, eval: 4_096_000 },
    extract: { dtype: 'float16', batchSize: 32, rowsPerShard: 4096 },
    sae: { dSae: 65_536, variants: [...ALL_VARIANTS] },
    train: { batchSize: 2048, lr: 5e-4, warmupSteps: 2000, lrDecay: 'cosine', gradClip: 0.1, checkpointEvery: 500 },
    evaluate: { families: ['core', 'absorption', 'sparse_probing', 'temporal'] },
    temporal: { heartbeatTimeoutSeconds: 120, maxAttempts: 3 },
  },
  demo: {
    name: 'demo',
    preset: 'demo',
    seed: 0,
    device: 'cpu',
    model: { source: 'gemma3-270m', layer: 6 },
    corpus: { source: 'demo', badInput: 'skip', limits: { maxDocChars: 1_000_000, maxTokensPerShard: 300_000 } },
    tokenize: { tokenizer: 'model', contextLength: 128, packing: 'pack', splits: { train: 0.9, val: 0.05, test: 0.05 } },
    tokens: { train: 204_800, eval: 16_384 },
    extract: { dtype: 'float16', batchSize: 16, rowsPerShard: 400 },
    sae: { dSae: 5120, variants: [...ALL_VARIANTS] },
    train: { batchSize: 1024, lr: 5e-4, warmupSteps: 20, lrDecay: 'cosine', gradClip: 0.1, checkpointEvery: 50 },
    evaluate: {
      families: ['core', 'absorption', 'sparse_probing', 'temporal'],
      // Sized for 2 CPU cores: the splice passes through a 262k vocabulary dominate core; the
      // model runs of probing and absorption prompts are shared by all variants (residual cache).
      options: {
        core: { n_eval_reconstruction_batches: 2, batch_size_prompts: 8 },
        absorption: { vocab_limit: 3000, max_icl_examples: 4, llm_batch_size: 64 },
        sparse_probing: { probe_train_set_size: 160, probe_test_set_size: 60, context_length: 64, llm_batch_size: 32 },
      },
    },
    temporal: { heartbeatTimeoutSeconds: 60, maxAttempts: 3 },
  },
  smoke: {
    name: 'smoke',
    preset: 'smoke',
    seed: 0,
    device: 'cpu',
    model: { source: 'test/fixtures/model/gemma2', layer: 1 },
    corpus: { source: 'test/fixtures/corpus/smoke', badInput: 'skip' },
    tokenize: { tokenizer: 'model', contextLength: 32, packing: 'pack', splits: { train: 0.8, val: 0.1, test: 0.1 } },
    tokens: { train: 8192, eval: 2048 },
    extract: { dtype: 'float16', batchSize: 16, rowsPerShard: 128 },
    sae: {
      dSae: 128,
      variants: [
        { variant: 'standard' },
        { variant: 'topk', hyperparameters: { k: 8 } },
        { variant: 'batchtopk', hyperparameters: { k: 8 } },
        { variant: 'jumprelu' },
        { variant: 'gated' },
        { variant: 'atr', hyperparameters: { targetL0: 8 } },
      ],
    },
    train: { batchSize: 256, lr: 1e-3, warmupSteps: 5, lrDecay: 'cosine', gradClip: 0.1, checkpointEvery: 10 },
    evaluate: { families: ['core', 'absorption', 'sparse_probing', 'temporal'] },
    temporal: { heartbeatTimeoutSeconds: 15, maxAttempts: 2 },
  },
} satisfies Record<string, RunSpecInput>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
