/**
 * Data-derived starting values for matched sparsity (controlInit 'data'), from the init sample
 * and the initial encoder. q is the (1 - targetL0 / n) quantile of the initial pre-activations,
 * the level above which the target share of (token, latent) pairs lies:
 *   - L1 (standard, gated, atr): lambda_0 = 2 q. For a unit-norm dictionary the L1 penalty makes
 *     a latent's activation a soft threshold of its projection at lambda / 2.
 *   - L0 (jumprelu): lambda_0 = q^2. Keeping a latent of activation f changes the summed MSE by
 *     about -f^2 and the penalty by +lambda, so the threshold balances at sqrt(lambda).
 * Measured on the demo (standard, target 89): q = 0.79, so lambda_0 = 1.6, where the controller
 * ended at 1.15 from the paper's 0.04 (a 28-fold climb it could barely finish in 200 steps).
 * jumprelu's per-latent quantiles (its initial thresholds) come from the same graph.
 */
import type { ControlledConfig } from '../../../schemas/train.js';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.js';
import { sparsityControlOf } from '../resolve-config.js';
import { createSession, Tensor } from '../../../lib/onnx/backend.js';

/** Sample rows used for the global quantile (a [rows x n] TopK). */
const QUANTILE_ROWS = 1024;
/** Smallest threshold or quantile used (normalised units): logs stay finite. */
export const MIN_LEVEL = 1e-3;

export interface PreActivationLevels {
  /** Global (1 - target / n) quantile of the pre-activations. */
  global: number;
  /** Per latent: the k-th largest pre-activation, k = round(rows * target / n) [n]. */
  perLatent: Float32Array;
}

/**
 * Quantiles of pre = (x - b_dec) W_enc + b_enc over the sample x [rows, dIn] (normalised units).
 * `bias` is b_enc (b_gate for gated).
 */
export async function preActivationLevels(
  x: Float32Array,
  rows: number,
  dIn: number,
  dSae: number,
  params: { W_enc: Float32Array; b_dec: Float32Array; bias: Float32Array },
  target: number,
  perLatentTarget = target,
): Promise<PreActivationLevels> {
  const k = Math.max(1, Math.min(rows, Math.round((rows * perLatentTarget) / dSae)));
  const sub = Math.min(rows, QUANTILE_ROWS);
  const kAll = Math.max(1, Math.min(sub * dSae, Math.round(sub * target)));
  const g = new GraphBuilder('float32');
  const pre = g.gemm(g.sub(g.input('x', [rows, dIn]), g.input('b_dec', [dIn])), g.input('W_enc', [dIn, dSae]), { c: g.input('bias', [dSae]) });
  // GraphBuilder.topk returns unsorted values: the k-th largest is the smallest of the top k.
  const [perLatent] = g.topk(pre, g.ints([k]), 0);
  g.output('perLatent', g.reduceMin(perLatent, [0]));
  const [all] = g.topk(g.reshape(g.slice(pre, [0], [sub], [0]), [-1]), g.ints([kAll]), 0);
  g.output('global', g.reduceMin(all, [0]));
  const session = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: 0 });
  const out = await session.run({
    x: new Tensor('float32', x, [rows, dIn]),
    b_dec: new Tensor('float32', params.b_dec, [dIn]),
    W_enc: new Tensor('float32', params.W_enc, [dIn, dSae]),
    bias: new Tensor('float32', params.bias, [dSae]),
  });
  await session.release();
  return { global: Math.max((out.global.data as Float32Array)[0], MIN_LEVEL), perLatent: out.perLatent.data as Float32Array };
}

/** The data-derived lambda_0 of a penalty given the global quantile q. */
export function dataCoefficient(penalty: 'l1' | 'l0', q: number): number {
  return penalty === 'l1' ? 2 * q : q * q;
}

type Init = { params: Record<string, Float32Array>; state: Record<string, Float32Array> };

/**
 * initFromSample of a controlled variant: under sparsityControl 'target' with controlInit 'data',
 * lambda and lambda0 start at the data-derived coefficient. `levels` is computed once and also
 * handed to `more` (jumprelu's thresholds) when that needs it.
 */
export async function controlledInit(
  init: Init,
  sample: { x: Float32Array; rows: number },
  cfg: ControlledConfig,
  dIn: number,
  opts: { penalty: 'l1' | 'l0'; bias: string; wantsLevels?: boolean; perLatentTarget?: number; more?: (levels: PreActivationLevels, init: Init) => Init },
): Promise<Init> {
  const fromData = sparsityControlOf(cfg) === 'target' && cfg.controlInit === 'data';
  if (cfg.targetL0 === undefined || (!fromData && !opts.wantsLevels)) return init;
  const { params } = init;
  const levels = await preActivationLevels(sample.x, sample.rows, dIn, cfg.dSae, { W_enc: params.W_enc, b_dec: params.b_dec, bias: params[opts.bias] }, cfg.targetL0, opts.perLatentTarget);
  let out = init;
  if (fromData) {
    const lambda = cfg.controlInitFactor * dataCoefficient(opts.penalty, levels.global);
    out = { params, state: { ...init.state, lambda: Float32Array.of(lambda), lambda0: Float32Array.of(lambda) } };
  }
  return opts.more ? opts.more(levels, out) : out;
}
