/**
 * batchtopk: the k N largest ReLU'd pre-activations of the whole batch of N tokens are kept
 * (Bussmann, Leask & Nanda 2024, "BatchTopK Sparse Autoencoders"), so L0 varies per token and
 * averages k. AuxK as in topk. At inference a JumpReLU threshold replaces the batch selection,
 * as in dictionary_learning (trainers/batch_top_k.py, BatchTopKTrainer.update_threshold): after
 * step thresholdStartStep (0-based step > start) the threshold is set to the batch's smallest
 * positive kept activation the first time and then follows an EMA of it (decay thresholdDecay);
 * before that it is -1 (never updated). Starting late matters: the minimum falls while the SAE
 * learns (demo: 0.93 at step 1, 0.63 at step 200), so a threshold averaged from step 0 sits too
 * high and the inference L0 falls short of k (26 for k = 32). The export writes it as a per-latent
 * `threshold` with SAELens architecture 'jumprelu' (what SAELens itself does).
 */
import type { Val } from '../../../lib/onnx/graph-builder.js';
import { badConfig } from '../../../lib/core/errors.js';
import { topkK } from '../resolve-config.js';
import { encodeAffine } from './common.js';
import { flatCode } from './sparse.js';
import { sharedInit, sharedParams } from './standard.js';
import { finishTopKFamily } from './topk.js';
import type { StepInputs, StepOutputs, Variant } from './types.js';

/**
 * Threshold update from the kept values [m] (ReLU'd) at 0-based step `step` (a scalar):
 * unchanged up to `start`, then the first minimum, then the EMA.
 */
export function updateThreshold(inputs: StepInputs, vals: Val, start: number, decay: number): Val {
  const { g, state } = inputs;
  const big = g.scalar(3e38);
  const positive = g.greater(vals, g.scalar(0));
  // dictionary_learning uses 0 when no kept value is positive.
  const minPos = g.reduceMin(g.where(positive, vals, big), [0]);
  const observed = g.where(g.less(minPos, big), minPos, g.scalar(0));
  const unset = g.less(state.threshold, g.scalar(0));
  const blended = g.add(g.scale(state.threshold, decay), g.scale(observed, 1 - decay));
  const updated = g.where(unset, observed, blended);
  return g.where(g.greater(inputs.step, g.scalar(start)), updated, state.threshold);
}

export const batchTopKVariant: Variant = {
  name: 'batchtopk',
  decoder: 'W_dec',
  params: sharedParams,
  init: (dIn, dSae, _cfg, rng, bDec) => sharedInit(dIn, dSae, rng, bDec),
  initialState: () => ({ threshold: Float32Array.of(-1) }),
  buildStep(inputs): StepOutputs {
    const { g, cfg, x, params, rows, dIn, dSae } = inputs;
    if (cfg.variant !== 'batchtopk') throw badConfig(`batchtopk step built with variant '${cfg.variant}'`);
    const { xc, pre } = encodeAffine(g, x, params.W_enc, params.b_enc, params.b_dec);
    const flat = g.reshape(g.relu(pre), [rows * dSae]);
    const [vals, flatIdx] = g.topk(flat, g.ints([topkK(cfg) * rows]), 0);
    const code = flatCode(g, vals, flatIdx, params.W_dec, params.b_dec, rows, dIn, dSae);
    const out = finishTopKFamily(inputs, { xc, pre, ...code }, { coefficient: cfg.auxKCoefficient, kAux: cfg.kAux ?? Math.floor(dIn / 2) });
    const threshold = updateThreshold(inputs, vals, cfg.thresholdStartStep, cfg.thresholdDecay);
    return { ...out, state: { threshold }, extra: { ...out.extra, threshold } };
  },
};
