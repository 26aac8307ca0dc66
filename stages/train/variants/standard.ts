/**
 * standard: ReLU SAE with an L1 penalty and unit-norm decoder rows (Bricken et al. 2023,
 * "Towards Monosemanticity"; the TemporalSAE paper's baseline, Eq. 1 with alpha = 0).
 *
 *   f = ReLU((x - b_dec) W_enc + b_enc),  xhat = f W_dec + b_dec
 *   L = (1/N) sum_t ||xhat_t - x_t||^2 + lambda (1/N) sum_t sum_i f_t,i
 *
 * The ReLU family's forward and backward live here; atr reuses them with token and pair masks.
 */
import type { Val } from '../../../lib/onnx/graph-builder.js';
import type { TrainConfig } from '../../../schemas/train.js';
import type { Prng } from '../prng.js';
import { badConfig } from '../../../lib/core/errors.js';
import { encodeAffine, encoderBackward, firedCounts, meanL0, mseLoss, positive, tiedInit } from './common.js';
import { controllerSpec, controllerState, controlOutputs, type ControllerSpec } from './sparsity-control.js';
import { controlledInit } from './sparsity-init.js';
import type { ParamSpec, StepInputs, StepOutputs, Variant } from './types.js';

export function sharedParams(dIn: number, dSae: number): ParamSpec[] {
  return [
    { name: 'W_enc', shape: [dIn, dSae] },
    { name: 'b_enc', shape: [dSae] },
    { name: 'W_dec', shape: [dSae, dIn] },
    { name: 'b_dec', shape: [dIn] },
  ];
}

export function sharedInit(dIn: number, dSae: number, rng: Prng, bDec: Float32Array): Record<string, Float32Array> {
  const { W_enc, W_dec } = tiedInit(dIn, dSae, rng);
  return { W_enc, b_enc: new Float32Array(dSae), W_dec, b_dec: Float32Array.from(bDec) };
}

/** Extra gradient on f [N, n] from a penalty other than L1 (atr's temporal term). */
export type ExtraLatentGrad = (f: Val, invN: Val) => { dF: Val; terms: Record<string, Val> };

/**
 * ReLU SAE step. `invN` = 1/N; with a token mask, masked tokens get no reconstruction or L1
 * gradient. The L1 gradient lambda/N (per valid token) is added through the Gemm's C input.
 */
export function reluStep(inputs: StepInputs, invN: Val, sparsity: Val, extra?: ExtraLatentGrad): StepOutputs {
  const { g, x, params, tokenMask, rows } = inputs;
  const { W_enc, b_enc, W_dec, b_dec } = params;
  const { xc, pre } = encodeAffine(g, x, W_enc, b_enc, b_dec);
  const f = g.relu(pre);
  const recon = g.gemm(f, W_dec, { c: b_dec });
  const { mse, dRecon } = mseLoss(g, x, recon, invN, tokenMask);

  // With a token mask the per-latent sums over valid tokens are also atr's Eq. 6 statistics.
  const latentSums = tokenMask ? g.reshape(g.matmul(g.unsqueeze(tokenMask, [0]), f), [-1]) : undefined;
  const sumF = latentSums ? g.reduceSum(latentSums, null) : g.reduceSum(f, null);
  const l1 = g.mul(g.mul(sumF, invN), sparsity);
  // d l1 / d f = lambda/N on valid tokens: a scalar, or [N, 1] with a token mask.
  const l1Grad = tokenMask ? g.unsqueeze(g.mul(tokenMask, g.mul(sparsity, invN)), [1]) : g.mul(sparsity, invN);
  let dF = g.gemm(dRecon, W_dec, { transB: true, c: l1Grad });
  const terms: Record<string, Val> = { mse, l1 };
  let loss = g.add(mse, l1);
  if (extra) {
    const more = extra(f, invN);
    dF = g.add(dF, more.dF);
    for (const [name, value] of Object.entries(more.terms)) {
      terms[name] = value;
      loss = g.add(loss, value);
    }
  }
  const active = positive(g, f);
  const dpre = g.mul(dF, active);
  const enc = encoderBackward(g, xc, dpre, W_enc, rows);
  const grads = {
    W_enc: enc.dW_enc,
    b_enc: enc.db_enc,
    W_dec: g.gemm(f, dRecon, { transA: true }),
    b_dec: g.add(g.reduceSum(dRecon, [0]), enc.dbDecIn),
  };
  const fired = firedCounts(g, active, rows, tokenMask);
  return { grads, loss, terms, recon, l0: meanL0(g, fired, invN), fired, latents: f, latentSums, state: {}, extra: {} };
}

function l1Config(cfg: TrainConfig): Extract<TrainConfig, { variant: 'standard' | 'gated' }> {
  if (cfg.variant !== 'standard' && cfg.variant !== 'gated') throw badConfig(`L1 controller for variant '${cfg.variant}'`);
  return cfg;
}

/** The L1 controller of standard and gated (lambda starts at l1Coefficient). */
export function l1Controller(cfg: TrainConfig): ControllerSpec {
  return controllerSpec(l1Config(cfg), l1Config(cfg).l1Coefficient);
}

/** standard and gated: a data-derived lambda_0 (sparsity-init.ts); `bias` is the gate's pre-activation bias. */
export function l1InitFromSample(bias: string): NonNullable<Variant['initFromSample']> {
  return (init, sample, cfg, dIn) => controlledInit(init, sample, l1Config(cfg), dIn, { penalty: 'l1', bias });
}

export const standardVariant: Variant = {
  name: 'standard',
  decoder: 'W_dec',
  params: sharedParams,
  init: (dIn, dSae, _cfg: TrainConfig, rng, bDec) => sharedInit(dIn, dSae, rng, bDec),
  initialState: (cfg) => controllerState(l1Controller(cfg)),
  initFromSample: l1InitFromSample('b_enc'),
  buildStep(inputs) {
    const { g, cfg, state } = inputs;
    const spec = l1Controller(cfg);
    const out = reluStep(inputs, g.scalar(1 / inputs.rows), g.mul(inputs.sparsityScale, state.lambda));
    return { ...out, ...controlOutputs(g, spec, state, out.l0, inputs.controlFactor) };
  },
};
