/**
 * gated: separate gate and magnitude paths with shared directions (Rajamanoharan et al. 2024a,
 * "Improving Dictionary Learning with Gated Sparse Autoencoders", Sec. 3):
 *
 *   pi_gate = (x - b_dec) W_enc + b_gate,  pi_mag = (x - b_dec) (W_enc * exp(r_mag)) + b_mag
 *   f = 1[pi_gate > 0] * ReLU(pi_mag),  xhat = f W_dec + b_dec
 *   L = mse + lambda (1/N) sum ReLU(pi_gate) + (1/N) sum ||ReLU(pi_gate) sg(W_dec) + sg(b_dec) - x||^2
 *
 * The gate's Heaviside passes no gradient; the gate path learns through the L1 and auxiliary
 * terms, whose decoder copy is frozen (sg = stop-gradient), as in the paper and SAELens.
 */
import { badConfig } from '../../../lib/core/errors.js';
import { columnSums, encoderBackward, firedCounts, meanL0, mseLoss, positive, tiedInit, weightTimesVector } from './common.js';
import { controlOutputs, controllerState } from './sparsity-control.js';
import { l1Controller, l1InitFromSample } from './standard.js';
import type { StepInputs, StepOutputs, Variant } from './types.js';

export const gatedVariant: Variant = {
  name: 'gated',
  decoder: 'W_dec',
  params: (dIn, dSae) => [
    { name: 'W_enc', shape: [dIn, dSae] },
    { name: 'b_gate', shape: [dSae] },
    { name: 'r_mag', shape: [dSae] },
    { name: 'b_mag', shape: [dSae] },
    { name: 'W_dec', shape: [dSae, dIn] },
    { name: 'b_dec', shape: [dIn] },
  ],
  init(dIn, dSae, _cfg, rng, bDec) {
    const { W_enc, W_dec } = tiedInit(dIn, dSae, rng);
    const zeros = () => new Float32Array(dSae);
    return { W_enc, b_gate: zeros(), r_mag: zeros(), b_mag: zeros(), W_dec, b_dec: Float32Array.from(bDec) };
  },
  initialState: (cfg) => controllerState(l1Controller(cfg)),
  initFromSample: l1InitFromSample('b_gate'),
  buildStep(inputs: StepInputs): StepOutputs {
    const { g, cfg, x, params, rows, dIn, dSae, state } = inputs;
    if (cfg.variant !== 'gated') throw badConfig(`gated step built with variant '${cfg.variant}'`);
    const { W_enc, b_gate, r_mag, b_mag, W_dec, b_dec } = params;
    const invN = g.scalar(1 / rows);
    const xc = g.sub(x, b_dec);
    const piGate = g.gemm(xc, W_enc, { c: b_gate });
    const expR = g.exp(r_mag);
    const W_mag = g.mul(W_enc, expR);
    const piMag = g.gemm(xc, W_mag, { c: b_mag });
    const gate = positive(g, piGate);
    const f = g.mul(gate, g.relu(piMag));
    const recon = g.gemm(f, W_dec, { c: b_dec });
    const { mse, dRecon } = mseLoss(g, x, recon, invN);

    const gateAct = g.relu(piGate);
    const decAux = inputs.frozen('gated_W_dec', W_dec, [dSae, dIn]);
    const biasAux = inputs.frozen('gated_b_dec', b_dec, [dIn]);
    const aux = mseLoss(g, x, g.gemm(gateAct, decAux, { c: biasAux }), invN);
    const coefficient = g.mul(inputs.sparsityScale, state.lambda);
    const l1 = g.mul(g.mul(g.reduceSum(gateAct, null), invN), coefficient);

    const active = positive(g, f);
    const dPiMag = g.mul(g.gemm(dRecon, W_dec, { transB: true }), active);
    const dPiGate = g.mul(g.gemm(aux.dRecon, decAux, { transB: true, c: g.mul(coefficient, invN) }), gate);
    // W_mag = W_enc * exp(r_mag): one product x_c^T (dPiMag exp(r) + dPiGate) gives dW_enc, and
    // d r_mag = sum_t dPiMag * (pi_mag - b_mag) needs no extra matmul.
    const enc = encoderBackward(g, xc, g.add(g.mul(dPiMag, expR), dPiGate), W_enc, rows);
    const dbMag = columnSums(g, dPiMag, rows);
    const dbGate = columnSums(g, dPiGate, rows);
    const dbDec = g.add(g.add(g.reduceSum(dRecon, [0]), weightTimesVector(g, W_mag, dbMag, -1)), weightTimesVector(g, W_enc, dbGate, -1));
    const grads = {
      W_enc: enc.dW_enc,
      b_gate: dbGate,
      r_mag: columnSums(g, g.mul(dPiMag, g.sub(piMag, b_mag)), rows),
      b_mag: dbMag,
      W_dec: g.gemm(f, dRecon, { transA: true }),
      b_dec: dbDec,
    };
    const fired = firedCounts(g, active, rows);
    const terms = { mse, l1, aux_mse: aux.mse };
    const loss = g.add(g.add(mse, l1), aux.mse);
    const l0 = meanL0(g, fired, invN);
    return { grads, loss, terms, recon, l0, fired, latents: f, ...controlOutputs(g, l1Controller(cfg), state, l0, inputs.controlFactor) };
  },
};
