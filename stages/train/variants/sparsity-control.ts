/**
 * The shared sparsity controller: adapts the sparsity coefficient lambda of standard and gated
 * (L1), jumprelu (L0) and atr (lambda_t of Eq. 4) every step, inside the step graph, so that the
 * training L0 reaches `targetL0`. One algorithm for all four, so matched-sparsity comparisons
 * differ only in the variants themselves.
 *
 * 'integral' (the default under sparsityControl 'target'): a multiplicative integral controller on
 * the log error, in the family of decoderesearch/synth-sae-bench-experiments'
 * CoefficientAutotuner (saes/components/coefficient_autotuner.py, which SAELens's JumpReLU
 * autotuning copies): smoothed L0, bounded (tanh) multiplicative steps, awareness of L0's rate of
 * change. Two changes make it converge in a few hundred steps, where the reference's gains are
 * for 10^4-10^5: the error is predicted `horizon` steps ahead from L0's current rate, and each
 * step is scaled by a gain schedule (schedule.ts controlFactor). Both measured on the demo (standard, target 89):
 * L0 answers lambda only after 20-40 steps and hardly at all during LR warm-up, so a plain
 * integral controller kept raising lambda while L0 was already falling, wound up to its clamp and
 * collapsed L0 to 3 (EV 0.12); with the reference's damping while L0 moves toward the target
 * (gain x 0.1) lambda rose too slowly and L0 ended at 525.
 *   s_t = beta s_t-1 + (1 - beta) L0_t                  (s starts at the first step's L0)
 *   v_t = beta_v v_t-1 + (1 - beta_v) ln(s_t / s_t-1)   (L0's log rate per step, beta_v = 0.9)
 *   e_t = ln(s_t / s*) + horizon * v_t                   (the log error `horizon` steps ahead)
 *   lambda_t+1 = clamp(lambda_t exp(Ki c_t tanh(e_t)), [minFactor, maxFactor] * lambda_0)
 * The log error is symmetric (twice too many latents weighs like half as many) and the tanh
 * bounds each step to a factor exp(Ki).
 *
 * atr's lambdaControl 'proportional' is Eq. 4 as the paper writes it:
 *   lambda_t = clamp(lambda_0 exp(eta (s_t - s*)))
 * with the same running mean s_t (open question 3).
 *
 * 'fixed' keeps lambda at lambda_0 (the state is carried unchanged).
 * The clamp flag (+1 at the upper, -1 at the lower bound, else 0) goes to the metrics.
 */
import type { GraphBuilder, Val } from '../../../lib/onnx/graph-builder.js';
import type { ControlledConfig } from '../../../schemas/train.js';

/** Decay beta_v of the L0 rate estimate. */
export const RATE_DECAY = 0.7;
/** The response limit's floor, as a fraction of the gain. */
export const RESPONSE_FLOOR = 0.2;

export type ControlMode = 'fixed' | 'integral' | 'proportional';

export interface ControllerSpec {
  mode: ControlMode;
  /** lambda_0: initial coefficient. */
  initial: number;
  target: number;
  gain: number;
  /** Steps ahead the error is predicted (resolved from a fraction of the run). */
  horizon: number;
  l0Decay: number;
  /** atr proportional only. */
  eta: number;
  /** Clamp factors: lambda stays in [minFactor, maxFactor] * lambda_0 (lambda_0 is state, so a data-derived start moves the clamps too). */
  minFactor: number;
  maxFactor: number;
}

/** The controller of a variant config (resolved) whose coefficient starts at `initial`. */
export function controllerSpec(cfg: ControlledConfig, initial: number): ControllerSpec {
  const control = cfg.sparsityControl ?? (cfg.targetL0 !== undefined ? 'target' : 'fixed');
  const mode: ControlMode = control === 'fixed' ? 'fixed' : cfg.variant === 'atr' && cfg.lambdaControl === 'proportional' ? 'proportional' : 'integral';
  const horizon = cfg.controlHorizon === 0 || cfg.controlHorizon >= 1 ? cfg.controlHorizon : cfg.controlHorizon * cfg.steps;
  return {
    mode,
    initial,
    target: cfg.targetL0 ?? 0,
    gain: cfg.controlGain,
    horizon,
    l0Decay: cfg.l0Ema,
    eta: cfg.variant === 'atr' ? cfg.eta : 0,
    minFactor: cfg.controlMinFactor,
    maxFactor: cfg.controlMaxFactor,
  };
}

/**
 * Initial controller state (scalars): lambda and its start lambda0 (the clamps' reference), the L0
 * running mean and log rate, and whether L0 was seen. `initial` overrides spec.initial (a
 * data-derived start, sparsity-init.ts).
 */
export function controllerState(spec: ControllerSpec, initial = spec.initial): Record<string, Float32Array> {
  return { lambda: Float32Array.of(initial), lambda0: Float32Array.of(initial), l0Ema: Float32Array.of(0), l0Rate: Float32Array.of(0), l0Seen: Float32Array.of(0) };
}

export interface ControllerStep {
  /** Next state (same keys as controllerState). */
  state: Record<string, Val>;
  /** +1 when lambda_t+1 sits at the upper clamp, -1 at the lower, else 0. */
  clamp: Val;
}

/**
 * One controller update from this step's L0 and lr_t / lr (scalars) and the current state.
 * L0 is floored at 1e-3 latents so the logs stay finite.
 */
export function updateController(g: GraphBuilder, spec: ControllerSpec, state: Record<string, Val>, l0: Val, controlFactor: Val): ControllerStep {
  const one = g.scalar(1);
  const seen = state.l0Seen;
  const notSeen = g.sub(one, seen);
  const floor = g.scalar(1e-3);
  // The first step has no running mean yet: it starts at the first L0 (rate 0).
  const blended = g.add(g.scale(state.l0Ema, spec.l0Decay), g.scale(l0, 1 - spec.l0Decay));
  const l0Ema = g.max(g.add(g.mul(seen, blended), g.mul(notSeen, l0)), floor);
  const logStep = g.op1('Log', [g.div(l0Ema, g.max(state.l0Ema, floor))]);
  const l0Rate = g.mul(seen, g.add(g.scale(state.l0Rate, RATE_DECAY), g.scale(logStep, 1 - RATE_DECAY)));
  const base = { l0Ema, l0Rate, l0Seen: one, lambda0: state.lambda0 };
  if (spec.mode === 'fixed' || spec.target <= 0) return { state: { ...base, lambda: state.lambda }, clamp: g.scalar(0) };
  let raw: Val;
  if (spec.mode === 'proportional') {
    raw = g.mul(g.exp(g.scale(g.sub(l0Ema, g.scalar(spec.target)), spec.eta)), state.lambda0);
  } else {
    const error = g.add(g.op1('Log', [g.scale(l0Ema, 1 / spec.target)]), g.scale(l0Rate, spec.horizon));
    // No faster than L0 has been moving (plus a floor): the response limit.
    const bound = g.add(g.abs(l0Rate), g.scalar(RESPONSE_FLOOR * spec.gain));
    const step = g.min(g.max(g.scale(g.op1('Tanh', [error]), spec.gain), g.neg(bound)), bound);
    raw = g.mul(state.lambda, g.exp(g.mul(step, controlFactor)));
  }
  const [lo, hi] = [g.scale(state.lambda0, spec.minFactor), g.scale(state.lambda0, spec.maxFactor)];
  const lambda = g.min(g.max(raw, lo), hi);
  const clamp = g.sub(g.cast(g.greater(raw, hi), g.floatType), g.cast(g.less(raw, lo), g.floatType));
  return { state: { ...base, lambda }, clamp };
}

/** State and metrics of a controlled variant's step: next controller state, lambda_t and the clamp flag. */
export function controlOutputs(g: GraphBuilder, spec: ControllerSpec, state: Record<string, Val>, l0: Val, controlFactor: Val): { state: Record<string, Val>; extra: Record<string, Val> } {
  const next = updateController(g, spec, state, l0, controlFactor);
  return { state: next.state, extra: { lambda: state.lambda, lambda_clamp: next.clamp } };
}
