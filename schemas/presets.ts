import type { RunSpecInput } from './run-spec.js';

/**
 * Built-in run specs. `paper` is the paper's setting (Section 5, its absolute windows);
 * `demo` is small but real (Gemma 3 270M on the mini-pile, every variant at one matched L0, on
 * 2 CPU cores); `study` is the demo's data with a Pareto front (three L0s, two seeds, the ATR
 * alpha_0 = 0 control and an alpha_0 sweep); `smoke` runs the whole DAG on tiny committed
 * fixtures in about 2 minutes (CI).
 */
const ALL_VARIANTS = [
  { variant: 'standard' },
  { variant: 'topk' },
  { variant: 'batchtopk' },
  { variant: 'jumprelu' },
  { variant: 'gated' },
  { variant: 'atr' },
] as const;

/**
 * The paper's sparsity relative to width, carried to the demo model: L0 320 of d_model 2304
 * (Table 1) is 89 of Gemma 3 270M's 640.
 */
const DEMO_TARGET_L0 = 89;
/** The study's front: half, one and two times the demo's matched L0. */
const STUDY_L0S = [45, 89, 178];
const STUDY_SEEDS = [0, 1];

/** Every variant at every L0 and seed of the study, then the ATR controls at the middle L0. */
function studyVariants() {
  const front = STUDY_L0S.flatMap((l0) =>
    ALL_VARIANTS.flatMap(({ variant }) =>
      STUDY_SEEDS.map((seed) => ({ name: `${variant}-l${l0}-s${seed}`, variant, seed, hyperparameters: variant === 'topk' || variant === 'batchtopk' ? { k: l0 } : { targetL0: l0 } })),
    ),
  );
  // ATR's claim needs its control: the same [sequences x positions] batches with alpha_0 = 0
  // (both seeds), and a sweep of alpha_0 around the paper's 0.002 (first seed).
  const control = STUDY_SEEDS.map((seed) => ({ name: `atr-alpha0-0-l${DEMO_TARGET_L0}-s${seed}`, variant: 'atr' as const, seed, hyperparameters: { targetL0: DEMO_TARGET_L0, alpha0: 0 } }));
  const sweep = [0.0005, 0.008].map((alpha0) => ({ name: `atr-alpha0-${String(alpha0).replace('.', 'p')}-l${DEMO_TARGET_L0}-s0`, variant: 'atr' as const, seed: 0, hyperparameters: { targetL0: DEMO_TARGET_L0, alpha0 } }));
  const controls = [...control, ...sweep];
  return [...front, ...controls];
}

/** The demo's model, corpus, tokens and extraction (shared by the study). */
const DEMO_DATA = {
  model: { source: 'gemma3-270m', layer: 6 },
  corpus: { source: 'demo', badInput: 'skip', limits: { maxDocChars: 1_000_000, maxTokensPerShard: 300_000 } },
  tokenize: { tokenizer: 'model', contextLength: 128, packing: 'pack', splits: { train: 0.9, val: 0.05, test: 0.05 } },
  tokens: { train: 204_800, eval: 20_480 },
  extract: { dtype: 'float16', batchSize: 16, rowsPerShard: 400 },
} as const;
const DEMO_TRAIN = { batchSize: 1024, lr: 5e-4, warmupSteps: 20, lrDecay: 'cosine', gradClip: 0.1, checkpointEvery: 50 } as const;

/** Demo-sized eval options (2 CPU cores): 160 windows spliced, 500 probe test texts per task. */
const DEMO_EVAL_OPTIONS = {
  core: { batch_size_prompts: 16, n_eval_reconstruction_batches: 10 },
  absorption: { llm_batch_size: 64 },
  sparse_probing: { probe_train_set_size: 200, probe_test_set_size: 500, context_length: 32, llm_batch_size: 32 },
};

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
    sae: {
      dSae: 65_536,
      targetL0: 320,
      // The paper's absolute windows (Section 5); the other presets size them to the run.
      variants: ALL_VARIANTS.map(({ variant }) => ({
        variant,
        hyperparameters: variant === 'atr' ? { resampleEvery: 500, historyWindowSteps: 500 } : variant === 'batchtopk' ? { thresholdStartStep: 1000 } : {},
      })),
    },
    train: {
      batchSize: 2048,
      lr: 5e-4,
      warmupSteps: 2000,
      lrDecay: 'cosine',
      gradClip: 0.1,
      checkpointEvery: 500,
      hyperparameters: { deadWindowTokens: 10_000_000 },
    },
    evaluate: { families: ['core', 'absorption', 'sparse_probing', 'temporal'] },
    temporal: { heartbeatTimeoutSeconds: 120, maxAttempts: 3 },
  },
  demo: {
    name: 'demo',
    preset: 'demo',
    seed: 0,
    device: 'cpu',
    ...DEMO_DATA,
    sae: { dSae: 5120, targetL0: DEMO_TARGET_L0, variants: [...ALL_VARIANTS] },
    train: DEMO_TRAIN,
    evaluate: {
      families: ['core', 'absorption', 'sparse_probing', 'temporal'],
      // Sized for 2 CPU cores: the model runs of probing and absorption prompts are shared by all
      // variants (residual cache), the splice's clean and ablated passes by all SAEs.
      options: DEMO_EVAL_OPTIONS,
    },
    temporal: { heartbeatTimeoutSeconds: 60, maxAttempts: 3 },
  },
  study: {
    name: 'study',
    preset: 'study',
    seed: 0,
    device: 'cpu',
    // The demo's data: a data directory that ran the demo reuses all of it from the cache and
    // only trains and evaluates.
    ...DEMO_DATA,
    // 2,560 latents (4x, the demo has 8x): 40 SAEs train in about half an hour on 2 CPU cores.
    sae: { dSae: 2560, variants: studyVariants() },
    train: DEMO_TRAIN,
    // Fronts of reconstruction, splice and temporal structure against L0; absorption and probing
    // cost model passes per SAE and stay in the demo.
    evaluate: { families: ['core', 'temporal'], options: { core: { batch_size_prompts: 16, n_eval_reconstruction_batches: 4 } } },
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
