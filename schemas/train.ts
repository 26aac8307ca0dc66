import { z } from 'zod';

/**
 * Training configuration of one SAE: shared training machinery plus each variant's own
 * hyperparameters, as one discriminated union on `variant`. Defaults are the paper's
 * (TemporalSAE, Sec. 4-5) where it gives them, else the source paper's of each variant.
 * Parsed once at the edge; the trainer never mutates it.
 */
export const TRAIN_VARIANTS = ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr'] as const;
export type TrainVariant = (typeof TRAIN_VARIANTS)[number];

const Common = {
  dSae: z.number().int().positive().describe('Number of latents n (the paper: 65,536)'),
  steps: z.number().int().positive().describe('Optimizer steps (the paper: 10M tokens / 2048 = 4883)'),
  batchSize: z.number().int().positive().default(2048).describe('Tokens per step (the paper: 2048)'),
  lr: z.number().positive().default(5e-4).describe('Peak learning rate (the paper: 5e-4)'),
  warmupSteps: z.number().int().nonnegative().default(2000).describe('Linear LR warm-up steps from 0 (the paper: 2000); must be below steps'),
  lrDecay: z.enum(['cosine', 'linear', 'none']).default('cosine').describe('LR decay after warm-up down to lrEndFactor * lr (the paper: cosine)'),
  lrEndFactor: z.number().min(0).max(1).default(0).describe('Final LR as a fraction of the peak'),
  adamBeta1: z.number().min(0).lt(1).default(0.9).describe('Adam beta1'),
  adamBeta2: z.number().min(0).lt(1).default(0.999).describe('Adam beta2'),
  adamEps: z.number().positive().default(1e-8).describe('Adam epsilon (added to sqrt(v_hat), as torch.optim.Adam)'),
  gradClip: z.number().positive().nullable().default(0.1).describe('Max global gradient L2 norm over all parameters, or null (the paper: 0.1)'),
  decoderUnitNorm: z.boolean().default(true).describe('Keep decoder rows unit norm: remove the gradient component parallel to each row, renormalise after each step'),
  bDecInit: z.enum(['geometric-median', 'mean', 'zeros']).default('geometric-median').describe('Initial b_dec from a data sample'),
  initSampleTokens: z.number().int().positive().default(8192).describe('Tokens sampled for b_dec and the normalisation scale'),
  normalizeActivations: z.enum(['expected-norm', 'none']).default('expected-norm').describe('expected-norm: scale inputs by c so E||c x|| = sqrt(d_in) (folded into exported weights)'),
  deadWindowTokens: z.number().int().positive().default(10_000_000).describe('A latent that has not fired for this many training tokens is dead'),
  checkpointEvery: z.number().int().positive().default(100).describe('Steps between checkpoints'),
  logEvery: z.number().int().positive().default(1).describe('Steps between metrics.jsonl lines'),
  stepsPerRun: z.number().int().positive().max(64).default(8).describe('Optimizer steps per onnxruntime run (ONNX Loop); amortises output copies'),
  seqLen: z.number().int().min(2).optional().describe('atr: positions per sequence of its [sequences x positions] batches (baselines shuffle tokens); default: the longest context window in the data; batchSize must be a multiple'),
  hookName: z.string().default('blocks.0.hook_resid_post').describe('SAELens hook name written to cfg.json'),
  modelName: z.string().default('unknown').describe('Model name written to cfg.json metadata'),
  contextSize: z.number().int().positive().optional().describe('Context length written to cfg.json metadata'),
};

const L1Sparsity = {
  l1Coefficient: z.number().nonnegative().default(0.04).describe('L1 coefficient lambda on sum_i f_i per token (the paper: 0.04)'),
  sparsityWarmupSteps: z.number().int().nonnegative().default(0).describe('Steps over which the sparsity coefficient ramps linearly from 0'),
};

const AuxK = {
  auxKCoefficient: z.number().nonnegative().default(1 / 32).describe('AuxK loss coefficient (Gao et al. 2024: 1/32)'),
  kAux: z.number().int().positive().optional().describe('Dead latents used by AuxK; default d_in / 2 (Gao et al. 2024)'),
};

export const StandardConfig = z.object({ variant: z.literal('standard'), ...Common, ...L1Sparsity }).strict();

export const TopKConfig = z
  .object({
    variant: z.literal('topk'),
    ...Common,
    k: z.number().int().positive().default(32).describe('Active latents per token (Gao et al. 2024)'),
    ...AuxK,
  })
  .strict();

export const BatchTopKConfig = z
  .object({
    variant: z.literal('batchtopk'),
    ...Common,
    k: z.number().int().positive().default(32).describe('Mean active latents per token; k * batchSize kept per batch (Bussmann et al. 2024)'),
    ...AuxK,
    thresholdDecay: z.number().min(0).lt(1).default(0.999).describe('EMA decay of the inference threshold (bias-corrected mean of the per-batch minimum positive activation)'),
  })
  .strict();

export const JumpReluConfig = z
  .object({
    variant: z.literal('jumprelu'),
    ...Common,
    l0Coefficient: z.number().nonnegative().default(0.001).describe('L0 penalty coefficient on the count of active latents per token (Rajamanoharan et al. 2024b)'),
    sparsityWarmupSteps: z.number().int().nonnegative().default(0).describe('Steps over which the L0 coefficient ramps linearly from 0'),
    bandwidth: z.number().positive().optional().describe('Rectangle-kernel bandwidth epsilon of the straight-through estimator; default: the paper\'s 0.001 at unit mean squared input norm, i.e. 0.001 * sqrt(d_in) under expected-norm normalisation'),
    initThreshold: z.number().positive().optional().describe('Initial threshold theta (stored as log theta); default: same scaling as bandwidth'),
  })
  .strict();

export const GatedConfig = z.object({ variant: z.literal('gated'), ...Common, ...L1Sparsity }).strict();

export const AtrConfig = z
  .object({
    variant: z.literal('atr'),
    ...Common,
    lambda0: z.number().nonnegative().default(0.04).describe('Base L1 coefficient lambda_0 of Eq. 4 (the paper: 0.04)'),
    targetL0: z.number().positive().default(320).describe('Target active latents s* of Eq. 4 (the paper: 320)'),
    eta: z.number().nonnegative().default(0.002).describe('Adaptation speed eta of Eq. 4 (the paper: 0.002)'),
    l0Ema: z.number().min(0).lt(1).default(0.9).describe('Open question 3: s_t is an EMA of the batch L0 with this decay (0 = the batch L0)'),
    lambdaControl: z.enum(['proportional', 'integral']).default('proportional').describe("Open question 3: 'proportional' is Eq. 4 as written (lambda_t = lambda_0 exp(eta (s_t - s*)), L0 settles off target); 'integral' compounds it (lambda_t+1 = lambda_t exp(eta (s_t - s*)), L0 converges to s*)"),
    lambdaMinFactor: z.number().positive().default(0.01).describe('Open question 3: lambda_t is clamped to [lambdaMinFactor, lambdaMaxFactor] * lambda_0'),
    lambdaMaxFactor: z.number().positive().default(100).describe('Upper clamp of lambda_t / lambda_0'),
    sparsityWarmupSteps: z.number().int().nonnegative().default(0).describe('Steps over which lambda_t ramps linearly from 0'),
    alpha0: z.number().nonnegative().default(0.002).describe('Base temporal penalty alpha_0 (the paper: 0.002)'),
    alphaBeta: z.number().min(0).lt(1).default(0.95).describe('Momentum beta of Eq. 3 (the paper: 0.95)'),
    alphaSignal: z.enum(['quality', 'loss-ratio']).default('quality').describe('Open question 1: target of Eq. 3 is alpha_0 * (EMA(mse) / mse_t) [quality] or alpha_0 * (mse_t / EMA(mse)) [loss-ratio]'),
    mseEma: z.number().min(0).lt(1).default(0.99).describe('Decay of the running mean of the reconstruction loss used by alphaSignal'),
    alphaMinFactor: z.number().positive().default(0.1).describe('Open question 1: alpha_t is clamped to [alphaMinFactor, alphaMaxFactor] * alpha_0'),
    alphaMaxFactor: z.number().positive().default(10).describe('Upper clamp of alpha_t / alpha_0'),
    temporalNorm: z.enum(['pairs', 'tokens']).default('pairs').describe('Open question 2: R (Eq. 2) summed over latents and averaged over valid pairs, or divided by valid tokens like the other terms'),
    resampleEvery: z.number().int().nonnegative().default(500).describe('Steps between position-aware resamplings (the paper: 500; 0 disables)'),
    historyWindowSteps: z.number().int().positive().default(500).describe('Open question 5: steps of per-latent statistics (ring buffer of per-run sums) behind Eq. 6'),
    gamma: z.number().nonnegative().default(5).describe('gamma of Eq. 6 (the paper: 5.0)'),
    resampleRule: z.enum(['percentile', 'fire-rate', 'both']).default('both').describe('Open question 4: resample latents below the score percentile, below the fire rate, or both'),
    resamplePercentile: z.number().min(0).max(100).default(10).describe('Score percentile of Eq. 6 below which latents are resampled (the paper: 10)'),
    resampleMaxFireRate: z.number().min(0).max(1).default(0.01).describe('Fire rate over the window below which latents are resampled (the paper: 1%)'),
    resampleSampleTokens: z.number().int().positive().default(8192).describe('Tokens scored by reconstruction error to pick reinitialisation inputs'),
    resampleEncoderScale: z.number().positive().default(0.2).describe('New encoder columns get this times the mean alive encoder norm (Anthropic 2023)'),
  })
  .strict();

export const TrainConfig = z
  .discriminatedUnion('variant', [StandardConfig, TopKConfig, BatchTopKConfig, JumpReluConfig, GatedConfig, AtrConfig])
  .superRefine((cfg, ctx) => {
    if (cfg.warmupSteps >= cfg.steps && cfg.warmupSteps > 0) {
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: `warmupSteps (${cfg.warmupSteps}) must be below steps (${cfg.steps})` });
    }
    if ((cfg.variant === 'topk' || cfg.variant === 'batchtopk') && cfg.k > cfg.dSae) {
      ctx.addIssue({ code: 'custom', path: ['k'], message: `k (${cfg.k}) must be at most dSae (${cfg.dSae})` });
    }
    if (cfg.variant === 'atr') {
      if (cfg.seqLen !== undefined && cfg.batchSize % cfg.seqLen !== 0) ctx.addIssue({ code: 'custom', path: ['seqLen'], message: `batchSize (${cfg.batchSize}) must be a multiple of seqLen (${cfg.seqLen})` });
      if (cfg.lambdaMinFactor > 1 || cfg.lambdaMaxFactor < 1) ctx.addIssue({ code: 'custom', path: ['lambdaMinFactor'], message: 'lambda clamp must contain 1 (lambdaMinFactor <= 1 <= lambdaMaxFactor)' });
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

