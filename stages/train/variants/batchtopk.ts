/**
 * batchtopk: the k N largest ReLU'd pre-activations of the whole batch of N tokens are kept
 * (Bussmann, Leask & Nanda 2024, "BatchTopK Sparse Autoencoders"), so L0 varies per token and
 * averages k. AuxK as in topk. At inference a JumpReLU threshold replaces the batch selection:
 * theta is the mean over steps of each batch's smallest kept positive activation, kept as a
 * bias-corrected EMA (decay thresholdDecay) so short runs get a plain mean; the export writes it
 * as a per-latent `threshold` with SAELens architecture 'jumprelu' (what SAELens itself does).
 */
import type { Val } from '../../../lib/onnx/graph-builder.js';
import { badConfig } from '../../../lib/core/errors.js';
import { encodeAffine } from './common.js';
import { flatCode } from './sparse.js';
import { sharedInit, sharedParams } from './standard.js';
import { finishTopKFamily } from './topk.js';
import type { StepInputs, StepOutputs, Variant } from './types.js';

/** State update of the threshold EMA from the kept values [m] (ReLU'd). */
function updateThreshold(inputs: StepInputs, vals: Val, decay: number): { state: Record<string, Val>; threshold: Val } {
  const { g, state } = inputs;
  const has = g.step(g.reduceMax(vals, [0]), g.scalar(0));
  const big = g.scalar(3e38);
  const minPos = g.reduceMin(g.where(g.greater(vals, g.scalar(0)), vals, big), [0]);
  const blended = g.add(g.scale(state.thresholdEma, decay), g.mul(g.mul(minPos, has), g.scalar(1 - decay)));
  const thresholdEma = g.add(g.mul(has, blended), g.mul(g.sub(g.scalar(1), has), state.thresholdEma));
  const thresholdCount = g.add(state.thresholdCount, has);
  const correction = g.sub(g.scalar(1), g.op1('Pow', [g.scalar(decay), thresholdCount]));
  const threshold = g.div(thresholdEma, g.max(correction, g.scalar(1e-30)));
  return { state: { thresholdEma, thresholdCount }, threshold };
}

export const batchTopKVariant: Variant = {
  name: 'batchtopk',
  decoder: 'W_dec',
  params: sharedParams,
  init: (dIn, dSae, _cfg, rng, bDec) => sharedInit(dIn, dSae, rng, bDec),
  initialState: () => ({ thresholdEma: Float32Array.of(0), thresholdCount: Float32Array.of(0) }),
  buildStep(inputs): StepOutputs {
    const { g, cfg, x, params, rows, dIn, dSae } = inputs;
    if (cfg.variant !== 'batchtopk') throw badConfig(`batchtopk step built with variant '${cfg.variant}'`);
    const { xc, pre } = encodeAffine(g, x, params.W_enc, params.b_enc, params.b_dec);
    const flat = g.reshape(g.relu(pre), [rows * dSae]);
    const [vals, flatIdx] = g.topk(flat, g.ints([cfg.k * rows]), 0);
    const code = flatCode(g, vals, flatIdx, params.W_dec, params.b_dec, rows, dIn, dSae);
    const out = finishTopKFamily(inputs, { xc, pre, ...code }, { coefficient: cfg.auxKCoefficient, kAux: cfg.kAux ?? Math.floor(dIn / 2) });
    const { state, threshold } = updateThreshold(inputs, vals, cfg.thresholdDecay);
    return { ...out, state, extra: { threshold } };
  },
};
