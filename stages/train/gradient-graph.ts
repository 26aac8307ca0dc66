/**
 * A single forward + backward of one variant as a standalone graph (no optimizer, no Loop):
 * inputs x, parameters, masks and state; outputs the loss, its terms and every gradient.
 * Built in float64 it is what the finite-difference checks differentiate; in float32 it is a
 * debugging view of the training step.
 */
import { GraphBuilder, type FloatType, type Val } from '../../lib/onnx/graph-builder.js';
import type { TrainConfig } from '../../schemas/train.js';
import type { StepInputs } from './variants/types.js';
import { variantFor } from './variants/index.js';
import { resolveTrainConfig } from './resolve-config.js';

export interface GradientGraph {
  model: Uint8Array;
  /** Parameter names (inputs `param:<name>`, outputs `grad:<name>`). */
  params: string[];
  /** Stop-gradient values: outputs `frozen:<name>` in record mode, inputs in pinned mode. */
  frozen: { name: string; shape: (number | string)[] }[];
  /** Loss term names (outputs `term:<name>`). */
  terms: string[];
  state: string[];
}

/**
 * `frozenMode`: 'record' outputs each stop-gradient value at the current point; 'pinned' takes
 * them as inputs, so perturbing parameters leaves them fixed (the loss the backward differentiates).
 */
export function buildGradientGraph(
  config: TrainConfig,
  dims: { rows: number; dIn: number; dSae: number },
  floatType: FloatType,
  frozenMode: 'record' | 'pinned' | 'none',
): GradientGraph {
  const cfg = resolveTrainConfig(config);
  const variant = variantFor(cfg.variant);
  const g = new GraphBuilder(floatType);
  const { rows, dIn, dSae } = dims;
  const specs = variant.params(dIn, dSae);
  const params: Record<string, Val> = {};
  for (const p of specs) params[p.name] = g.input(`param:${p.name}`, p.shape);
  const stateNames = Object.keys(variant.initialState(cfg, dIn));
  const state: Record<string, Val> = {};
  for (const name of stateNames) state[name] = g.input(`state:${name}`, []);
  const frozen: GradientGraph['frozen'] = [];
  const atr = cfg.variant === 'atr';
  const inputs: StepInputs = {
    g,
    cfg,
    rows,
    dIn,
    dSae,
    x: g.input('x', [rows, dIn]),
    params,
    sparsityScale: g.input('sparsityScale', []),
    step: g.input('step', []),
    controlFactor: g.input('controlFactor', []),
    deadMask: g.input('deadMask', [dSae]),
    tokenMask: atr ? g.input('tokenMask', [rows]) : undefined,
    pairMask: atr ? g.input('pairMask', [rows]) : undefined,
    state,
    mode: frozenMode === 'none' ? 'train' : 'fd',
    frozen(name, live, shape) {
      frozen.push({ name, shape });
      if (frozenMode === 'pinned') return g.input(`frozen:${name}`, shape);
      if (frozenMode === 'record') g.output(`frozen:${name}`, g.identity(live), floatType);
      return live;
    },
  };
  const out = variant.buildStep(inputs);
  g.output('loss', out.loss);
  g.output('l0', out.l0);
  g.output('recon', out.recon);
  for (const [name, value] of Object.entries(out.terms)) g.output(`term:${name}`, g.identity(value));
  for (const p of specs) g.output(`grad:${p.name}`, g.identity(out.grads[p.name]));
  return { model: g.toModel('gradient'), params: specs.map((p) => p.name), frozen, terms: Object.keys(out.terms), state: stateNames };
}
