/** Shared set-up for gradient tests: tiny random problems per variant, in float64. */
import { TrainConfig, type TrainConfigInput } from '../../../schemas/train.js';
import { Prng } from '../../../stages/train/prng.js';
import { variantFor } from '../../../stages/train/variants/index.js';

export const DIMS = { rows: 12, dIn: 6, dSae: 16 };

/** A config per variant that exercises every term (dead latents for AuxK, wide STE kernel). */
export function fdConfig(variant: TrainConfig['variant']): TrainConfig {
  const base: Record<string, unknown> = { variant, dSae: DIMS.dSae, steps: 10, warmupSteps: 0, batchSize: DIMS.rows };
  const extra: Record<string, Record<string, unknown>> = {
    standard: { l1Coefficient: 0.3 },
    topk: { k: 3, kAux: 4, auxKCoefficient: 0.5 },
    batchtopk: { k: 3, kAux: 4, auxKCoefficient: 0.5 },
    jumprelu: { l0Coefficient: 0.2, bandwidth: 0.5, normalizeActivations: 'none' },
    gated: { l1Coefficient: 0.3 },
    atr: { lambda0: 0.3, alpha0: 0.7, seqLen: 4 },
  };
  return TrainConfig.parse({ ...base, ...extra[variant] } as TrainConfigInput);
}

export interface Problem {
  feeds: Record<string, { data: Float64Array; dims: number[] }>;
  params: Record<string, { data: Float64Array; dims: number[] }>;
}

/** Random inputs, parameters (not unit-norm: the gradient formulas must not assume it), masks, state. */
export function randomProblem(cfg: TrainConfig, seed: number): Problem {
  const rng = Prng.fromSeed(seed, cfg.variant);
  const { rows, dIn, dSae } = DIMS;
  const normal = (n: number, scale = 1) => Float64Array.from({ length: n }, () => rng.nextNormal() * scale);
  const variant = variantFor(cfg.variant);
  const params: Problem['params'] = {};
  for (const p of variant.params(dIn, dSae)) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const data = p.name === 'log_threshold' ? Float64Array.from({ length: size }, () => Math.log(0.2 + 0.6 * rng.nextFloat())) : normal(size, 0.5);
    params[p.name] = { data, dims: p.shape };
  }
  const feeds: Problem['feeds'] = {
    x: { data: normal(rows * dIn), dims: [rows, dIn] },
    sparsityScale: { data: Float64Array.of(0.8), dims: [] },
    step: { data: Float64Array.of(5), dims: [] },
    controlFactor: { data: Float64Array.of(0.7), dims: [] },
    deadMask: { data: Float64Array.from({ length: dSae }, (_, i) => (i % 3 === 0 ? 1 : 0)), dims: [dSae] },
  };
  if (cfg.variant === 'atr') {
    // Sequences of 4 positions; position 0 of each has no pair; token 5 is special.
    const token = Float64Array.from({ length: rows }, (_, i) => (i === 5 ? 0 : 1));
    const pair = Float64Array.from({ length: rows }, (_, i) => (i % 4 === 0 || i === 5 || i === 6 ? 0 : 1));
    feeds.tokenMask = { data: token, dims: [rows] };
    feeds.pairMask = { data: pair, dims: [rows] };
  }
  for (const [name, value] of Object.entries(variant.initialState(cfg, dIn))) {
    const data = Float64Array.from(value);
    if (name === 'lambda') data[0] = 0.3;
    if (name === 'alpha') data[0] = 0.7;
    feeds[`state:${name}`] = { data, dims: [] };
  }
  return { feeds, params };
}
