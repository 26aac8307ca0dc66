/**
 * topk: k largest pre-activations per token, ReLU'd (Gao et al. 2024, "Scaling and evaluating
 * sparse autoencoders"), with the AuxK loss on dead latents (sparse.ts withAuxK: k_aux = d_in / 2,
 * coefficient 1/32 on the variance-normalised loss, as dictionary_learning trainers/top_k.py).
 *
 *   f = ReLU(TopK_k((x - b_dec) W_enc + b_enc)),  xhat = f W_dec + b_dec,  L = mse + c L_aux
 *
 * The selection is piecewise constant, so the gradient flows through the k kept entries only
 * (exact almost everywhere, which the finite-difference test confirms).
 */
import type { Val } from '../../../lib/onnx/graph-builder.js';
import { badConfig } from '../../../lib/core/errors.js';
import { topkK } from '../resolve-config.js';
import { encodeAffine, encoderBackward, meanL0, mseLoss } from './common.js';
import { rowTopKCode, withAuxK, type GradientTail, type SparseCode } from './sparse.js';
import { sharedInit, sharedParams } from './standard.js';
import type { StepInputs, StepOutputs, Variant } from './types.js';

/** AuxK and L0 bookkeeping shared by topk and batchtopk after the sparse code is built. */
export function finishTopKFamily(inputs: StepInputs, parts: { xc: Val; pre: Val } & SparseCode, aux: { coefficient: number; kAux: number }): StepOutputs {
  const { g, x, params, rows } = inputs;
  const invN = g.scalar(1 / rows);
  const { mse, dRecon, err } = mseLoss(g, x, parts.recon, invN);
  const tail: GradientTail = (b, extra) => {
    const base = parts.backward(b, dRecon);
    const dW_dec = extra ? b.add(base.dW_dec, extra.dW_dec) : base.dW_dec;
    const enc = encoderBackward(b, parts.xc, extra ? b.add(base.dpre, extra.dpre) : base.dpre, params.W_enc, rows);
    return [enc.dW_enc, enc.db_enc, dW_dec, b.add(b.reduceSum(dRecon, [0]), enc.dbDecIn)];
  };
  const { aux: auxLoss, grads: [W_enc, b_enc, W_dec, b_dec] } = withAuxK(inputs, parts.pre, g.neg(err), aux, tail, 4);
  const terms = { mse, auxk: auxLoss };
  const loss = g.add(mse, auxLoss);
  return { grads: { W_enc, b_enc, W_dec, b_dec }, loss, terms, recon: parts.recon, l0: meanL0(g, parts.fired, invN), fired: parts.fired, state: {}, extra: {} };
}

export const topkVariant: Variant = {
  name: 'topk',
  decoder: 'W_dec',
  params: sharedParams,
  init: (dIn, dSae, _cfg, rng, bDec) => sharedInit(dIn, dSae, rng, bDec),
  initialState: () => ({}),
  buildStep(inputs) {
    const { g, cfg, x, params, rows, dIn, dSae } = inputs;
    if (cfg.variant !== 'topk') throw badConfig(`topk step built with variant '${cfg.variant}'`);
    const { xc, pre } = encodeAffine(g, x, params.W_enc, params.b_enc, params.b_dec);
    const [raw, idx] = g.topk(pre, g.ints([topkK(cfg)]), 1);
    const code = rowTopKCode(g, g.relu(raw), idx, params.W_dec, params.b_dec, rows, dIn, dSae);
    return finishTopKFamily(inputs, { xc, pre, ...code }, { coefficient: cfg.auxKCoefficient, kAux: cfg.kAux ?? Math.floor(dIn / 2) });
  },
};
