import { z } from 'zod';

/**
 * Training configuration of one SAE: shared training machinery plus each variant's own
 * hyperparameters, as one discriminated union on `variant`. Defaults are sized to the run
 * (windows and warm-ups as fractions of its steps, so every mechanism acts in a short run too);
 * the paper's absolute values stay expressible (an integer >= 1 is absolute) and live in the
 * `paper` preset. Parsed once at the edge; stages/train/resolve-config.ts turns fractions into
 * step and token counts; the trainer never mutates it.
 */
export const TRAIN_VARIANTS = ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr'] as const;
export type TrainVariant = (typeof TRAIN_VARIANTS)[number];

const RUN_RULE = '0 < v < 1: that fraction of the run; an integer v >= 1: absolute; 0: none';

/** A count of steps (or tokens) given absolutely or as a fraction of the run's (RUN_RULE). */
export function runCount(defaultValue: number, meaning: string) {
  return z
    .number()
    .nonnegative()
    .refine((v) => v < 1 || Number.isInteger(v), { message: 'an absolute count must be an integer; give a fraction of the run as 0 < v < 1' })
    .default(defaultValue)
    .describe(`${meaning} (${RUN_RULE})`);
}

const Common = {
  dSae: z.number().int().positive().describe('Number of latents n (the paper: 65,536)'),
  steps: z.number().int().positive().describe('Optimizer steps (the paper: 10M tokens / 2048 = 4883)'),
  batchSize: z.number().int().positive().default(2048).describe('Tokens per step (the paper: 2048)'),
  lr: z.number().positive().default(5e-4).describe('Peak learning rate (the paper: 5e-4)'),
  warmupSteps: runCount(0.1, 'Linear LR warm-up steps from 0; must be below steps (the paper: 2000)'),
  lrDecay: z.enum(['cosine', 'linear', 'none']).default('cosine').describe('LR decay after warm-up down to lrEndFactor * lr (the paper: cosine)'),
  lrEndFactor: z.number().min(0).max(1).default(0).describe('Final LR as a fraction of the peak'),
  adamBeta1: z.number().min(0).lt(1).default(0.9).describe('Adam beta1'),
  adamBeta2: z.number().min(0).lt(1).default(0.999).describe('Adam beta2'),
  adamEps: z.number().positive().default(1e-8).describe('Adam epsilon (added to sqrt(v_hat), as torch.optim.Adam)'),
  gradClip: z.number().positive().nullable().default(0.1).describe('Max global gradient L2 norm over all parameters, or null (the paper: 0.1)'),
  decoderUnitNorm: z.boolean().default(true).describe('Keep decoder rows unit norm: remove the gradient component parallel to each row, renormalise after each step'),
  bDecInit: z.enum(['geometric-median', 'mean', 'zeros']).default('geometric-median').describe('Initial b_dec from a data sample'),
  initSampleTokens: z.number().int().positive().default(8192).describe('Tokens sampled for b_dec, the normalisation scale and the median token norm'),
  normalizeActivations: z.enum(['expected-norm', 'none']).default('expected-norm').describe('expected-norm: scale inputs by c so E||c x|| = sqrt(d_in) (folded into exported weights)'),
  maxNormMultiple: z.number().gt(1).nullable().default(5).describe('Tokens whose activation norm exceeds this multiple of the median token norm (of the init sample) are left out of training, as dictionary_learning ActivationBuffer max_activation_norm_multiple does for high-norm attention sinks (Gemma 3 270M layer 6: 0.012% of tokens at 8-10x the median, each a loss spike; the next largest are at 1.7x); null keeps every token. Leave them out of reconstruction metrics too: ReLU-family SAEs, trained with or without them, can reconstruct one with 15x its norm'),
  shuffleBufferMb: z.number().positive().default(1024).describe('Training tokens are shuffled across consecutive activation shards holding up to this many MB (a mixing buffer, as SAELens and dictionary_learning use), not only within one shard'),
  deadWindowTokens: runCount(0.1, 'A latent that has not fired for this many training tokens is dead (AuxK, dead_pct); a fraction is of the run\'s tokens (OpenAI, dictionary_learning: 10,000,000)'),
  checkpointEvery: z.number().int().positive().default(100).describe('Steps between checkpoints'),
  logEvery: z.number().int().positive().default(1).describe('Steps between metrics.jsonl lines'),
  stepsPerRun: z.number().int().positive().max(64).default(8).describe('Optimizer steps per onnxruntime run (ONNX Loop); amortises output copies'),
  seqLen: z.number().int().min(2).optional().describe('atr: positions per sequence of its [sequences x positions] batches (baselines shuffle tokens); default: the longest context window in the data; batchSize must be a multiple'),
  hookName: z.string().default('blocks.0.hook_resid_post').describe('SAELens hook name written to cfg.json'),
  modelName: z.string().default('unknown').describe('Model name written to cfg.json metadata'),
  contextSize: z.number().int().positive().optional().describe('Context length written to cfg.json metadata'),
};

/**
 * Matched sparsity for the penalty-based variants (standard, gated, jumprelu, atr): one shared
 * controller (stages/train/variants/sparsity-control.ts) adapts the sparsity coefficient.
 */
const Control = {
  targetL0: z.number().positive().optional().describe('Target L0 (mean active latents per token) the sparsity controller drives the training L0 to'),
  sparsityControl: z.enum(['fixed', 'target']).optional().describe("'target': the sparsity coefficient adapts every step until L0 reaches targetL0 (needs targetL0); 'fixed': it stays at its configured value; default 'target' when targetL0 is set, else 'fixed'"),
  controlGain: z.number().positive().default(0.03).describe('Integral gain Ki: each step multiplies the coefficient by exp(Ki (lr_t / lr) tanh(e_t)), e_t the log L0 error predicted controlHorizon steps ahead'),
  controlHorizon: runCount(0.05, 'Steps ahead the controller predicts the L0 error from its current rate of change (damps the overshoot L0\'s lag causes)'),
  controlStart: runCount(0, 'Step from which the controller adapts the coefficient (it starts at its configured value)'),
  controlSchedule: z.enum(['warmup', 'lr']).default('warmup').describe("Gain schedule of the controller: 'warmup' scales its steps by the LR warm-up factor, 'lr' by lr_t / lr throughout"),
  controlInit: z.enum(['data', 'config']).default('data').describe("Where the controller starts: 'data' derives lambda_0 from the init sample (controlInitFactor x 2 q for L1, x q^2 for jumprelu's L0, q the target-L0 quantile of the initial pre-activations); 'config' starts at the configured coefficient"),
  controlInitFactor: z.number().positive().default(0.25).describe("Fraction of the data-derived coefficient the controller starts at: the estimate holds for a trained dictionary, and an untrained one collapses under it (L0 fell below 10 on the demo)"),
  l0Ema: z.number().min(0).lt(1).default(0.5).describe('Decay of the L0 running mean the controller reads (atr open question 3: s_t of Eq. 4)'),
  controlMinFactor: z.number().positive().default(0.01).describe('The coefficient is clamped to [controlMinFactor, controlMaxFactor] * its initial value'),
  controlMaxFactor: z.number().positive().default(100).describe('Upper clamp of the coefficient / its initial value'),
};

const L1Sparsity = {
  l1Coefficient: z.number().nonnegative().default(0.04).describe('L1 coefficient lambda on sum_i f_i per token (the paper: 0.04); the controller\'s start under sparsityControl target'),
  sparsityWarmupSteps: runCount(0, 'Steps over which the sparsity coefficient ramps linearly from 0'),
  ...Control,
};

const AuxK = {
  auxKCoefficient: z.number().nonnegative().default(1 / 32).describe('AuxK coefficient on the dead latents\' reconstruction of the residual, normalised by the residual\'s variance (dictionary_learning trainers/top_k.py: 1/32)'),
  kAux: z.number().int().positive().optional().describe('Dead latents used by AuxK; default d_in / 2 (Gao et al. 2024)'),
};

const TopKFamily = {
  k: z.number().int().positive().optional().describe('Active latents per token; default: targetL0 rounded, else 32'),
  targetL0: z.number().positive().optional().describe('Target L0; sets k when k is not given'),
};

export const StandardConfig = z.object({ variant: z.literal('standard'), ...Common, ...L1Sparsity }).strict();

export const TopKConfig = z.object({ variant: z.literal('topk'), ...Common, ...TopKFamily, ...AuxK }).strict();

export const BatchTopKConfig = z
  .object({
    variant: z.literal('batchtopk'),
    ...Common,
    ...TopKFamily,
    ...AuxK,
    thresholdStartStep: runCount(0.5, 'Step from which the inference threshold averages the per-batch minimum kept activation (dictionary_learning trainers/batch_top_k.py threshold_start_step: 1000)'),
    thresholdDecay: z.number().min(0).lt(1).default(0.99).describe('EMA decay of the inference threshold, started at the first value after thresholdStartStep (dictionary_learning: 0.999)'),
  })
  .strict();

export const JumpReluConfig = z
  .object({
    variant: z.literal('jumprelu'),
    ...Common,
    l0Coefficient: z.number().nonnegative().default(0.001).describe('L0 penalty coefficient at unit mean squared input norm (the paper\'s convention, like bandwidth); multiplied by d_in under expected-norm normalisation, where the summed-over-d_in MSE is d_in times larger (SAELens JumpReLUTrainingSAE l0_coefficient in those units); the controller\'s start under sparsityControl target'),
    sparsityWarmupSteps: runCount(0, 'Steps over which the L0 coefficient ramps linearly from 0'),
    ...Control,
    l0Penalty: z.enum(['linear', 'quadratic']).optional().describe("'linear': lambda L0 (SAELens), lambda fixed or adapted by the sparsity controller; 'quadratic': c (L0 / targetL0 - 1)^2 with c = targetPenaltyCoefficient (dictionary_learning trainers/jumprelu.py), two-sided, so it also lowers thresholds when L0 is below the target (the L0 penalty sends no gradient to the pre-activations, and in a short run the reconstruction alone settles L0 below the target: 77 for target 89 on the demo); default 'quadratic' when targetL0 is set, else 'linear'"),
    targetPenaltyCoefficient: z.number().positive().default(1).describe("c of l0Penalty 'quadratic' at unit mean squared input norm (dictionary_learning sparsity_penalty: 1.0); multiplied by d_in under expected-norm normalisation, like l0Coefficient"),
    bandwidth: z.number().positive().optional().describe('Rectangle-kernel bandwidth epsilon of the straight-through estimator; default: the paper\'s 0.001 at unit mean squared input norm, i.e. 0.001 * sqrt(d_in) under expected-norm normalisation'),
    initThreshold: z.union([z.number().positive(), z.literal('target')]).optional().describe("Initial threshold theta (stored as log theta): a number (the paper's 0.001 scaled like bandwidth), or 'target': each latent starts at the quantile of its initial pre-activations over the init sample that makes it fire on targetL0 / dSae of the tokens (log theta moves about lr per step, too slow to travel from 0.001 in a short run); default 'target' when targetL0 is set, else 0.001 * sqrt(d_in)"),
    thresholdLrScale: z.number().positive().optional().describe('Learning-rate multiplier of log_threshold; default max(1, 3 / (lr x steps)): Adam moves log theta by about lr per step, so this lets the thresholds change by a factor e^3 over the run, as the paper\'s 10^5 steps do (1 for the paper\'s settings, 30 for 200 steps at lr 5e-4)'),
    thresholdInitL0Factor: z.number().min(1).default(4).describe("initThreshold 'target': thresholds start where each latent fires on this many times targetL0 / dSae of the tokens (L0 first falls while the dictionary is untrained)"),
  })
  .strict();

export const GatedConfig = z.object({ variant: z.literal('gated'), ...Common, ...L1Sparsity }).strict();

export const AtrConfig = z
  .object({
    variant: z.literal('atr'),
    ...Common,
    ...Control,
    lambda0: z.number().nonnegative().default(0.04).describe('Base L1 coefficient lambda_0 of Eq. 4 (the paper: 0.04); the controller\'s start'),
    targetL0: z.number().positive().default(320).describe('Target active latents s* of Eq. 4 (the paper: 320)'),
    lambdaControl: z.enum(['integral', 'proportional']).default('integral').describe("Open question 3, under sparsityControl target: 'integral' is the shared controller (L0 converges to s*); 'proportional' is Eq. 4 as written, lambda_t = lambda_0 exp(eta (s_t - s*)), which settles off target"),
    eta: z.number().nonnegative().default(0.002).describe("Adaptation speed eta of Eq. 4 (the paper: 0.002), used by lambdaControl 'proportional'"),
    sparsityWarmupSteps: runCount(0, 'Steps over which lambda_t ramps linearly from 0'),
    alpha0: z.number().nonnegative().default(0.002).describe('Base temporal penalty alpha_0 (the paper: 0.002); 0 trains the same [sequences x positions] batches without the temporal term (the ablation control)'),
    alphaBeta: z.number().min(0).lt(1).default(0.95).describe('Momentum beta of Eq. 3 (the paper: 0.95)'),
    alphaSignal: z.enum(['quality', 'loss-ratio']).default('quality').describe('Open question 1: target of Eq. 3 is alpha_0 * (EMA(mse) / mse_t) [quality] or alpha_0 * (mse_t / EMA(mse)) [loss-ratio]'),
    mseEmaSteps: runCount(0.05, 'Window of the running mean of the reconstruction loss used by alphaSignal (EMA decay 1 - 1/window)'),
    alphaMinFactor: z.number().positive().default(0.1).describe('Open question 1: alpha_t is clamped to [alphaMinFactor, alphaMaxFactor] * alpha_0'),
    alphaMaxFactor: z.number().positive().default(10).describe('Upper clamp of alpha_t / alpha_0'),
    temporalNorm: z.enum(['pairs', 'tokens']).default('pairs').describe('Open question 2: R (Eq. 2) summed over latents and averaged over valid pairs, or divided by valid tokens like the other terms'),
    resampleEvery: runCount(0.25, 'Steps between position-aware resamplings (the paper: 500)'),
    historyWindowSteps: runCount(0.25, 'Open question 5: steps of per-latent statistics (ring buffer of per-run sums) behind Eq. 6 (the paper: 500)'),
    gamma: z.number().nonnegative().default(5).describe('gamma of Eq. 6 (the paper: 5.0)'),
    resampleRule: z.enum(['percentile', 'fire-rate', 'both']).default('both').describe('Open question 4: resample latents below the score percentile, below the fire rate, or both'),
    resamplePercentile: z.number().min(0).max(100).default(10).describe('Score percentile of Eq. 6 below which latents are resampled (the paper: 10)'),
    resampleMaxFireRate: z.number().min(0).max(1).default(0.01).describe('Fire rate over the window below which latents are resampled (the paper: 1%)'),
    resampleSampleTokens: z.number().int().positive().default(8192).describe('Tokens scored by reconstruction error to pick reinitialisation inputs'),
    resampleEncoderScale: z.number().positive().default(0.2).describe('New encoder columns get this times the mean alive encoder norm (Anthropic 2023)'),
  })
  .strict();

/** A count in RUN_RULE form resolved against `total` (steps or tokens of the run). */
export function resolveRunCount(value: number, total: number): number {
  if (value === 0 || value >= 1) return value;
  return Math.max(1, Math.round(value * total));
}

export const TrainConfig = z
  .discriminatedUnion('variant', [StandardConfig, TopKConfig, BatchTopKConfig, JumpReluConfig, GatedConfig, AtrConfig])
  .superRefine((cfg, ctx) => {
    const warmup = resolveRunCount(cfg.warmupSteps, cfg.steps);
    if (warmup >= cfg.steps && warmup > 0) {
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: `warmupSteps (${warmup}) must be below steps (${cfg.steps})` });
    }
    if (cfg.variant === 'topk' || cfg.variant === 'batchtopk') {
      const k = cfg.k ?? Math.round(cfg.targetL0 ?? 32);
      if (k > cfg.dSae) ctx.addIssue({ code: 'custom', path: [cfg.k !== undefined ? 'k' : 'targetL0'], message: `k (${k}) must be at most dSae (${cfg.dSae})` });
      if (k < 1) ctx.addIssue({ code: 'custom', path: ['targetL0'], message: `targetL0 (${cfg.targetL0}) rounds to k = 0; it must be at least 0.5` });
      if (cfg.k !== undefined && cfg.targetL0 !== undefined && cfg.k !== Math.round(cfg.targetL0)) {
        ctx.addIssue({ code: 'custom', path: ['k'], message: `k (${cfg.k}) and targetL0 (${cfg.targetL0}) disagree; give one of them` });
      }
    }
    if (cfg.variant === 'standard' || cfg.variant === 'gated' || cfg.variant === 'jumprelu' || cfg.variant === 'atr') {
      if (cfg.sparsityControl === 'target' && cfg.targetL0 === undefined) ctx.addIssue({ code: 'custom', path: ['sparsityControl'], message: "sparsityControl 'target' needs targetL0" });
      if (cfg.variant === 'jumprelu' && cfg.l0Penalty === 'quadratic' && cfg.targetL0 === undefined) ctx.addIssue({ code: 'custom', path: ['l0Penalty'], message: "l0Penalty 'quadratic' needs targetL0" });
      if (cfg.controlMinFactor > 1 || cfg.controlMaxFactor < 1) ctx.addIssue({ code: 'custom', path: ['controlMinFactor'], message: 'controller clamp must contain 1 (controlMinFactor <= 1 <= controlMaxFactor)' });
    }
    if (cfg.variant === 'atr') {
      if (cfg.seqLen !== undefined && cfg.batchSize % cfg.seqLen !== 0) ctx.addIssue({ code: 'custom', path: ['seqLen'], message: `batchSize (${cfg.batchSize}) must be a multiple of seqLen (${cfg.seqLen})` });
      if (cfg.alphaMinFactor > 1 || cfg.alphaMaxFactor < 1) ctx.addIssue({ code: 'custom', path: ['alphaMinFactor'], message: 'alpha clamp must contain 1 (alphaMinFactor <= 1 <= alphaMaxFactor)' });
    }
    const l1 = cfg.variant === 'standard' || cfg.variant === 'gated' || cfg.variant === 'atr';
    if (l1 && !cfg.decoderUnitNorm) {
      ctx.addIssue({ code: 'custom', path: ['decoderUnitNorm'], message: `${cfg.variant} uses a plain L1 penalty, which needs decoderUnitNorm: true (else the penalty is evaded by growing W_dec)` });
    }
  });
export type TrainConfig = z.infer<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;
export type AtrConfig = z.infer<typeof AtrConfig>;
export type JumpReluConfig = z.infer<typeof JumpReluConfig>;
/** The variants whose sparsity coefficient the shared controller can drive. */
export type ControlledConfig = Extract<TrainConfig, { variant: 'standard' | 'gated' | 'jumprelu' | 'atr' }>;
