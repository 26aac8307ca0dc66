/**
 * jumprelu: f = z H(z - theta) with learned per-latent thresholds theta = exp(log_threshold) and an
 * L0 penalty (Rajamanoharan et al. 2024b, "Jumping Ahead", Sec. 4 and Appendix J):
 *
 *   z = (x - b_dec) W_enc + b_enc,  f = z H(z - theta),  L = mse + lambda (1/N) sum_t ||f_t||_0
 *
 * lambda is in the units of the summed-over-d_in MSE (jumpReluCoefficient) and is adapted by the
 * shared sparsity controller under sparsityControl 'target'.
 *
 * H has zero derivative almost everywhere, so theta learns through the paper's straight-through
 * pseudo-derivatives with a rectangle kernel K(u) = 1{|u| < 1/2} of bandwidth eps:
 *   d f / d theta := -(theta / eps) K((z - theta) / eps),  d H / d theta := -(1 / eps) K((z - theta) / eps)
 * and d f / d z = H(z - theta); the L0 term sends no gradient to z (as in the paper).
 *
 * These are the exact gradients of a surrogate in which H(z0 - theta) is smoothed to
 * S(u) = clip(u / eps + 1/2, 0, 1) around the current point; in 'fd' mode the graph adds that
 * surrogate (zero-valued at the current point) so finite differences can check the estimator.
 */
import type { Val } from '../../../lib/onnx/graph-builder.js';
import type { JumpReluConfig } from '../../../schemas/train.js';
import { badConfig } from '../../../lib/core/errors.js';
import { columnSums, encodeAffine, encoderBackward, firedCounts, meanL0, mseLoss } from './common.js';
import { sharedInit, sharedParams } from './standard.js';
import { controlledInit, MIN_LEVEL, type PreActivationLevels } from './sparsity-init.js';
import { controllerSpec, controllerState, controlOutputs, type ControllerSpec } from './sparsity-control.js';
import type { StepInputs, StepOutputs, Variant } from './types.js';

/** FD-only smoothing S(pre0 - theta) - S(pre0 - theta0): zero at theta0, slope -1/eps in the kernel window. */
function surrogate(inputs: StepInputs, pre: Val, theta: Val, eps: number): { bump: Val; theta0: Val } {
  const { g, rows, dSae } = inputs;
  const pre0 = inputs.frozen('jumprelu_pre', pre, [rows, dSae]);
  const theta0 = inputs.frozen('jumprelu_theta', theta, [dSae]);
  const smooth = (t: Val) => g.op1('Clip', [g.add(g.scale(g.sub(pre0, t), 1 / eps), g.scalar(0.5)), g.scalar(0), g.scalar(1)]);
  return { bump: g.sub(smooth(theta), smooth(theta0)), theta0 };
}

/**
 * Bandwidth and initial threshold: the paper's 0.001 is for inputs with unit mean squared norm;
 * under expected-norm normalisation (E||x|| = sqrt(d_in)) the same geometry is 0.001 * sqrt(d_in).
 */
export function jumpReluScales(cfg: JumpReluConfig, dIn: number): { bandwidth: number; initThreshold: number } {
  const unit = cfg.normalizeActivations === 'expected-norm' ? 0.001 * Math.sqrt(dIn) : 0.001;
  return { bandwidth: cfg.bandwidth ?? unit, initThreshold: typeof cfg.initThreshold === 'number' ? cfg.initThreshold : unit };
}

/**
 * Whether the thresholds start from the data (initThreshold 'target', the default with a targetL0):
 * each latent's threshold is the quantile of its initial pre-activations over the init sample above
 * which it fires on targetL0 / dSae of the tokens. Adam moves log_threshold by about lr per step, so
 * from the paper's 0.001 (tuned for 10^5 steps) a 200-step run at lr 5e-4 changes the thresholds
 * by about 6%, and the L0 penalty sends no gradient to the pre-activations: measured on the demo,
 * L0 stayed at 687 while the controller raised lambda five-fold.
 */
export function thresholdsFromData(cfg: JumpReluConfig): boolean {
  return cfg.initThreshold === 'target' || (cfg.initThreshold === undefined && cfg.targetL0 !== undefined);
}

/**
 * The L0 coefficient in the trainer's units. The paper's lambda is for inputs of unit mean squared
 * norm; under expected-norm normalisation E||x||^2 is about d_in, so the summed-over-d_in MSE is
 * d_in times larger and lambda must be too for the same balance: SAELens JumpReLUTrainingSAE
 * (sae_lens/saes/jumprelu_sae.py, calculate_aux_loss: l0_loss = (l0_coefficient * l0).mean() beside
 * the summed MSE) takes its l0_coefficient in these units (default 1.0).
 */
export function jumpReluCoefficient(cfg: JumpReluConfig, dIn: number): number {
  return cfg.l0Coefficient * (cfg.normalizeActivations === 'expected-norm' ? dIn : 1);
}

/**
 * The controller of the L0 coefficient; under l0Penalty 'quadratic' the penalty targets L0 itself,
 * so its coefficient c stays fixed (the state is carried unchanged).
 */
export function jumpReluController(cfg: JumpReluConfig, dIn: number): ControllerSpec {
  if (l0PenaltyOf(cfg) === 'quadratic') {
    const c = cfg.targetPenaltyCoefficient * (cfg.normalizeActivations === 'expected-norm' ? dIn : 1);
    return controllerSpec({ ...cfg, sparsityControl: 'fixed' }, c);
  }
  return controllerSpec(cfg, jumpReluCoefficient(cfg, dIn));
}

/** The L0 penalty form: 'quadratic' under a target unless configured (schemas/train.ts l0Penalty). */
export function l0PenaltyOf(cfg: JumpReluConfig): 'linear' | 'quadratic' {
  return cfg.l0Penalty ?? (cfg.targetL0 !== undefined ? 'quadratic' : 'linear');
}

/** Travel of log theta over a run at the default threshold learning rate (e^3). */
const THRESHOLD_TRAVEL = 3;

/** log_threshold's learning-rate multiplier (schemas/train.ts thresholdLrScale). */
export function thresholdLrScale(cfg: JumpReluConfig): number {
  return cfg.thresholdLrScale ?? Math.max(1, THRESHOLD_TRAVEL / (cfg.lr * cfg.steps));
}

/**
 * The L0 penalty P of mean L0 m (scalar) and its slope s = dP/dm, with coefficient c:
 * 'linear' P = c m (SAELens JumpReLUTrainingSAE.calculate_aux_loss);
 * 'quadratic' P = c (m / T - 1)^2, s = 2 c (m / T - 1) / T (dictionary_learning trainers/jumprelu.py
 * JumpReluTrainer.loss), which pulls L0 up as well as down.
 */
function penaltyOf(inputs: StepInputs, cfg: JumpReluConfig, m: Val, c: Val): { l0Penalty: Val; slope: Val } {
  const { g } = inputs;
  if (l0PenaltyOf(cfg) === 'linear') return { l0Penalty: g.mul(m, c), slope: c };
  if (cfg.targetL0 === undefined) throw badConfig("jumprelu l0Penalty 'quadratic' needs targetL0");
  const rel = g.sub(g.scale(m, 1 / cfg.targetL0), g.scalar(1));
  return { l0Penalty: g.mul(g.square(rel), c), slope: g.mul(g.scale(rel, 2 / cfg.targetL0), c) };
}

function jumpReluConfig(cfg: StepInputs['cfg']): JumpReluConfig {
  if (cfg.variant !== 'jumprelu') throw badConfig(`jumprelu step built with variant '${cfg.variant}'`);
  return cfg;
}

export const jumpReluVariant: Variant = {
  name: 'jumprelu',
  decoder: 'W_dec',
  params: (dIn, dSae) => [...sharedParams(dIn, dSae), { name: 'log_threshold', shape: [dSae] }],
  init(dIn, dSae, cfg, rng, bDec) {
    if (cfg.variant !== 'jumprelu') throw badConfig('jumprelu init for another variant');
    return { ...sharedInit(dIn, dSae, rng, bDec), log_threshold: new Float32Array(dSae).fill(Math.log(jumpReluScales(cfg, dIn).initThreshold)) };
  },
  initialState: (cfg, dIn) => controllerState(jumpReluController(jumpReluConfig(cfg), dIn)),
  lrScales: (cfg) => ({ log_threshold: thresholdLrScale(jumpReluConfig(cfg)) }),
  initFromSample(init, sample, cfg, dIn) {
    const jr = jumpReluConfig(cfg);
    const wantsLevels = thresholdsFromData(jr);
    // Thresholds at each latent's target quantile (see thresholdsFromData).
    const more = (levels: PreActivationLevels, out: typeof init) =>
      wantsLevels ? { ...out, params: { ...out.params, log_threshold: levels.perLatent.map((v) => Math.log(Math.max(v, MIN_LEVEL))) } } : out;
    const perLatentTarget = Math.min((jr.targetL0 ?? 0) * jr.thresholdInitL0Factor, jr.dSae / 2);
    // Under the quadratic penalty c stays as configured; only the thresholds come from the data.
    const controlled = l0PenaltyOf(jr) === 'quadratic' ? { ...jr, sparsityControl: 'fixed' as const } : jr;
    return controlledInit(init, sample, controlled, dIn, { penalty: 'l0', bias: 'b_enc', wantsLevels, perLatentTarget, more });
  },
  buildStep(inputs): StepOutputs {
    const { g, x, params, rows, state } = inputs;
    const cfg = jumpReluConfig(inputs.cfg);
    const eps = jumpReluScales(cfg, inputs.dIn).bandwidth;
    const invN = g.scalar(1 / rows);
    const theta = g.exp(params.log_threshold);
    const { xc, pre } = encodeAffine(g, x, params.W_enc, params.b_enc, params.b_dec);
    const gate = g.step(pre, theta);
    let f = g.mul(pre, gate);
    let gateL0 = gate;
    if (inputs.mode === 'fd') {
      const { bump, theta0 } = surrogate(inputs, pre, theta, eps);
      f = g.add(f, g.mul(bump, theta0));
      gateL0 = g.add(gate, bump);
    }
    const recon = g.gemm(f, params.W_dec, { c: params.b_dec });
    const { mse, dRecon } = mseLoss(g, x, recon, invN);
    const coefficient = g.mul(inputs.sparsityScale, state.lambda);
    const fired = firedCounts(g, gate, rows);
    // In training gateL0 is the gate itself, whose total is already in the fired counts.
    const l0Count = inputs.mode === 'fd' ? g.reduceSum(gateL0, null) : g.reduceSum(fired, null);
    const { l0Penalty, slope } = penaltyOf(inputs, cfg, g.mul(l0Count, invN), coefficient);
    const dF = g.gemm(dRecon, params.W_dec, { transB: true });
    // K = 1{|pre - theta| < eps/2} from two boolean compares against [n] bounds (no float pass for |pre - theta|).
    const half = g.scalar(eps / 2);
    const inWindow = g.op1('And', [g.greater(pre, g.sub(theta, half)), g.less(pre, g.add(theta, half))]);
    const kernel = g.cast(inWindow, g.floatType);
    // d theta = -(1/eps) sum_t K (theta dF + s/N) = -(1/eps) (theta sum_t K dF + (s/N) sum_t K), s = dP/dL0;
    // d log theta = theta d theta. Two column sums instead of two more [N, n] passes.
    const kernelDf = columnSums(g, g.mul(kernel, dF), rows);
    const kernelCount = columnSums(g, kernel, rows);
    const dTheta = g.scale(g.add(g.mul(kernelDf, theta), g.mul(kernelCount, g.mul(slope, invN))), -1 / eps);
    const enc = encoderBackward(g, xc, g.mul(dF, gate), params.W_enc, rows);
    const grads = {
      W_enc: enc.dW_enc,
      b_enc: enc.db_enc,
      W_dec: g.gemm(f, dRecon, { transA: true }),
      b_dec: g.add(g.reduceSum(dRecon, [0]), enc.dbDecIn),
      log_threshold: g.mul(dTheta, theta),
    };
    const terms = { mse, l0_penalty: l0Penalty };
    const l0 = meanL0(g, fired, invN);
    return { grads, loss: g.add(mse, l0Penalty), terms, recon, l0, fired, latents: f, ...controlOutputs(g, jumpReluController(cfg, inputs.dIn), state, l0, inputs.controlFactor) };
  },
};
