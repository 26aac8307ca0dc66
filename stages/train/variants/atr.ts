/**
 * atr: adaptive temporal regularisation (TemporalSAE paper, Sec. 4). A ReLU SAE (standard.ts)
 * trained on [sequences x positions] batches with
 *
 *   L = mse + lambda_t (1/N) sum_t ||f_t||_1 + alpha_t R(f)                         (Eq. 5)
 *   R(f) = sum over valid pairs (t-1, t) of sum_i (f_t,i - f_t-1,i)^2                (Eq. 2)
 *   lambda_t: Eq. 4, adapted so that s_t reaches s* (see Q3)                         (Eq. 4)
 *   alpha_t+1 = beta alpha_t + (1 - beta) alpha_0 q_t                                (Eq. 3)
 *
 * Decisions on the paper's open questions (atr-open-questions.md), each a knob in schemas/train.ts:
 * - Q1 (Eq. 3 mixes a gradient vector into a scalar): the adaptation signal is the
 *   reconstruction quality q_t = EMA(mse) / mse_t ('quality', default: alpha rises while
 *   reconstruction is better than its running mean and falls when it degrades, so fidelity is
 *   protected) or its inverse ('loss-ratio'); the target is alpha_0 q_t and alpha is clamped to
 *   [alphaMinFactor, alphaMaxFactor] * alpha_0. alpha starts at alpha_0. The running mean of mse
 *   spans mseEmaSteps (default 5% of the run): with the former fixed decay 0.99 (100 steps) the
 *   mean lagged far above the falling mse of a 200-step run and alpha sat at its 10 alpha_0 clamp
 *   for the whole demo; alpha_t and its clamp hits are logged (alpha_t, alpha_clamp) and summed in
 *   TrainSummary.mechanisms.alpha. alpha_0 = 0 is the ablation control (same batches, no R).
 * - Q2: R is summed over latents and divided by the number of valid pairs ('pairs', default) or
 *   by the valid tokens ('tokens'). A pair is valid when both positions are in the same context
 *   window and document and neither is special (batches.ts builds the mask); special and
 *   padding positions are excluded from every loss term.
 * - Q3: s_t is an EMA (decay l0Ema) of the batch L0 over valid tokens. As written Eq. 4 is a
 *   proportional controller (lambdaControl 'proportional'): it settles where
 *   lambda_0 exp(eta (s - s*)) equals the penalty the data needs, i.e. off target by
 *   ln(lambda_needed / lambda_0) / eta. The default 'integral' is the sparsity controller shared
 *   with standard, gated and jumprelu (sparsity-control.ts), which drives L0 to s* itself, from a
 *   data-derived lambda_0 (controlInit 'data'), so atr is compared with the baselines at matched L0.
 * - Q4, Q5 (resampling, statistics window) live in resample.ts.
 * - Q6: L0 is whatever the adaptive penalty yields; metrics report the measured value (no hard
 *   selection is added to hit 320 exactly). Q7-Q9 (explained variance, KL score, clusters) are
 *   evaluation questions (evaluate stage). Q10: "adaptation rate 5.0" is gamma (knob `gamma`).
 * The coefficients adapt every step inside the graph, so they do not depend on stepsPerRun;
 * lambda_t and alpha_t are logged per step (metrics.jsonl lambda_t, alpha_t) and checkpointed.
 */
import type { Val } from '../../../lib/onnx/graph-builder.js';
import type { AtrConfig } from '../../../schemas/train.js';
import { badConfig } from '../../../lib/core/errors.js';
import { controllerSpec, controllerState, updateController, type ControllerSpec } from './sparsity-control.js';
import { controlledInit } from './sparsity-init.js';
import { reluStep, sharedInit, sharedParams } from './standard.js';
import type { StepInputs, StepOutputs, Variant } from './types.js';

function atrConfig(inputs: StepInputs): AtrConfig {
  if (inputs.cfg.variant !== 'atr') throw badConfig(`atr step built with variant '${inputs.cfg.variant}'`);
  return inputs.cfg;
}

/**
 * alpha_t * R(f) and its gradient on f [N, n] (consecutive rows; pairMask[t] marks (t-1, t)).
 * With w = alpha_t / norm and D_t = pairMask[t] (f_t - f_t-1) (D_0 = 0: row 0 has no predecessor),
 * dR/df_t = 2 w (D_t - D_t+1). The row shifts are Gathers (one pass each; Slice and Pad copy
 * more), and 2w is folded into the mask so the gradient needs no separate scaling pass:
 * S = 2w D, alpha_t R = sum S^2 / (4w), and d/df = S_t - S_t+1.
 */
function temporalPenalty(inputs: StepInputs, cfg: AtrConfig, f: Val, invN: Val): { dF: Val; terms: Record<string, Val> } {
  const { g, rows, pairMask, alpha } = inputs;
  if (!pairMask || !alpha) throw badConfig('atr needs a pair mask and alpha_t');
  const pairs = g.mul(pairMask, g.floats(Array.from({ length: rows }, (_, t) => (t === 0 ? 0 : 1))));
  const norm = cfg.temporalNorm === 'pairs' ? g.div(g.scalar(1), g.max(g.reduceSum(pairs, null), g.scalar(1))) : invN;
  const weight = g.mul(alpha, norm);
  const twoW = g.scale(weight, 2);
  const prevRow = g.ints(Array.from({ length: rows }, (_, t) => Math.max(t - 1, 0)));
  // Row rows-1 has no successor: it reads row 0, whose S is 0.
  const nextRow = g.ints(Array.from({ length: rows }, (_, t) => (t + 1) % rows));
  const scaled = g.mul(g.sub(f, g.gather(f, prevRow, 0)), g.unsqueeze(g.mul(pairs, twoW), [1]));
  const temporal = g.div(g.sumSquares(scaled), g.max(g.scale(weight, 4), g.scalar(1e-30)));
  return { dF: g.sub(scaled, g.gather(scaled, nextRow, 0)), terms: { temporal } };
}

/**
 * Eq. 3 from this step's mse (scalar), per the decisions above: alpha_t+1 = clamp(beta alpha_t +
 * (1 - beta) alpha_0 q_t). The running mean of mse spans mseEmaSteps steps (decay 1 - 1/window)
 * so it tracks the loss on short runs too. With alpha_0 = 0 alpha stays 0 (nothing divides by it).
 */
function adaptAlpha(inputs: StepInputs, cfg: AtrConfig, mse: Val): { state: Record<string, Val>; clamp: Val } {
  const { g, state } = inputs;
  const decay = 1 - 1 / Math.max(1, cfg.mseEmaSteps);
  // The first step has no running mean yet: it starts at the first mse.
  const blended = g.add(g.scale(state.mseEma, decay), g.scale(mse, 1 - decay));
  const mseEma = g.add(g.mul(state.mseSeen, blended), g.mul(g.sub(g.scalar(1), state.mseSeen), mse));
  const tiny = g.scalar(1e-30);
  const signal = cfg.alphaSignal === 'quality' ? g.div(mseEma, g.max(mse, tiny)) : g.div(mse, g.max(mseEma, tiny));
  const alphaRaw = g.add(g.scale(state.alpha, cfg.alphaBeta), g.scale(signal, (1 - cfg.alphaBeta) * cfg.alpha0));
  const [lo, hi] = [g.scalar(cfg.alpha0 * cfg.alphaMinFactor), g.scalar(cfg.alpha0 * cfg.alphaMaxFactor)];
  const alpha = g.min(g.max(alphaRaw, lo), hi);
  const clamp = g.sub(g.cast(g.greater(alphaRaw, hi), g.floatType), g.cast(g.less(alphaRaw, lo), g.floatType));
  return { state: { alpha, mseEma, mseSeen: g.scalar(1) }, clamp };
}

/** lambda_t's controller (Eq. 4): the shared one, starting at lambda_0. */
export function atrController(cfg: AtrConfig): ControllerSpec {
  return controllerSpec(cfg, cfg.lambda0);
}

export const atrVariant: Variant = {
  name: 'atr',
  decoder: 'W_dec',
  params: sharedParams,
  init: (dIn, dSae, _cfg, rng, bDec) => sharedInit(dIn, dSae, rng, bDec),
  initialState(cfg) {
    if (cfg.variant !== 'atr') throw badConfig('atr state for another variant');
    const scalar = (v: number) => Float32Array.of(v);
    return { ...controllerState(atrController(cfg)), alpha: scalar(cfg.alpha0), mseEma: scalar(0), mseSeen: scalar(0) };
  },
  initFromSample(init, sample, cfg, dIn) {
    if (cfg.variant !== 'atr') throw badConfig('atr init for another variant');
    return controlledInit(init, sample, cfg, dIn, { penalty: 'l1', bias: 'b_enc' });
  },
  buildStep(inputs): StepOutputs {
    const { g, tokenMask, state } = inputs;
    const cfg = atrConfig(inputs);
    if (!tokenMask) throw badConfig('atr needs a token mask');
    const invN = g.div(g.scalar(1), g.max(g.reduceSum(tokenMask, null), g.scalar(1)));
    const sparsity = g.mul(inputs.sparsityScale, state.lambda);
    const out = reluStep({ ...inputs, alpha: state.alpha }, invN, sparsity, (f, n) => temporalPenalty({ ...inputs, alpha: state.alpha }, cfg, f, n));
    const lambda = updateController(g, atrController(cfg), state, out.l0, inputs.controlFactor);
    const alpha = adaptAlpha(inputs, cfg, out.terms.mse);
    const extra = { lambda: state.lambda, lambda_clamp: lambda.clamp, alpha: state.alpha, alpha_clamp: alpha.clamp };
    return { ...out, state: { ...lambda.state, ...alpha.state }, extra };
  },
};
