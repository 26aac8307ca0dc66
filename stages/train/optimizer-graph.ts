/**
 * The in-graph update after the backward: decoder-direction projection, global-norm clipping,
 * Adam, decoder renormalisation. Order and formulas follow torch so one step matches the
 * PyTorch reference (infra/dev/python/reference_train.py):
 *   1. unit-norm decoder: g_i <- g_i - (g_i . w_i) w_i (the part of the gradient that would only
 *      change a row's norm; SAELens remove_gradient_parallel_to_decoder_directions);
 *   2. clipping as torch.nn.utils.clip_grad_norm_: g <- g * min(1, c / (||g||_2 + 1e-6));
 *   3. torch.optim.Adam: m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
 *      p <- p - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps), with bc_i = 1 - b_i^t;
 *   4. unit-norm decoder: w_i <- w_i / ||w_i||.
 */
import type { GraphBuilder, Val } from '../../lib/onnx/graph-builder.js';
import type { TrainConfig } from '../../schemas/train.js';

export interface OptimizerInputs {
  params: Record<string, Val>;
  grads: Record<string, Val>;
  m: Record<string, Val>;
  v: Record<string, Val>;
  /** lr_t / (1 - b1^t), scalar. */
  stepSize: Val;
  /** sqrt(1 - b2^t), scalar. */
  bc2Sqrt: Val;
  /** Name of the decoder parameter kept at unit row norm. */
  decoder: string;
  /** Learning-rate multipliers of some parameters (default 1). */
  lrScales?: Record<string, number>;
}

export interface OptimizerOutputs {
  params: Record<string, Val>;
  m: Record<string, Val>;
  v: Record<string, Val>;
  /** Global gradient norm before clipping (after the decoder projection). */
  gradNorm: Val;
}

/** Rows of w [n, d] scaled to unit norm. */
export function normalizeRows(g: GraphBuilder, w: Val): Val {
  const norms = g.sqrt(g.op1('ReduceSumSquare', [w, g.ints([1])], { keepdims: 1 }));
  return g.div(w, norms);
}

/**
 * Memory-bound passes matter here (each is a sweep over a d x n tensor), so the clipping factor
 * c is folded into the moment scalars instead of rescaling the gradients, and Adam's division
 * by sqrt(bc2) and multiplication by the step size are folded into the denominator:
 *   m <- b1 m + (c (1 - b1)) g;  v <- b2 v + (c^2 (1 - b2)) g^2;
 *   p <- p - m / (sqrt(v) / (sqrt(bc2) s) + eps / s),  s = lr / bc1.
 * This is the same update as torch's up to float rounding (the parity test checks 1e-5).
 */
export function buildOptimizer(g: GraphBuilder, cfg: TrainConfig, inputs: OptimizerInputs): OptimizerOutputs {
  const grads = { ...inputs.grads };
  const dec = inputs.decoder;
  if (cfg.decoderUnitNorm) {
    const w = inputs.params[dec];
    const parallel = g.reduceSum(g.mul(grads[dec], w), [1], true);
    grads[dec] = g.sub(grads[dec], g.mul(parallel, w));
  }
  const names = Object.keys(inputs.params);
  let sumSq: Val | null = null;
  for (const name of names) {
    const s = g.sumSquares(grads[name]);
    sumSq = sumSq === null ? s : g.add(sumSq, s);
  }
  const gradNorm = g.sqrt(sumSq as Val);
  const clip = cfg.gradClip === null ? g.scalar(1) : g.min(g.div(g.scalar(cfg.gradClip), g.add(gradNorm, g.scalar(1e-6))), g.scalar(1));
  const mScale = g.scale(clip, 1 - cfg.adamBeta1);
  const vScale = g.scale(g.mul(clip, clip), 1 - cfg.adamBeta2);
  const stepSize = g.max(inputs.stepSize, g.scalar(1e-30));
  const sqrtScale = g.div(g.scalar(1), g.mul(inputs.bc2Sqrt, stepSize));
  const epsScaled = g.div(g.scalar(cfg.adamEps), stepSize);
  const out: OptimizerOutputs = { params: {}, m: {}, v: {}, gradNorm };
  for (const name of names) {
    const grad = grads[name];
    const m = g.add(g.scale(inputs.m[name], cfg.adamBeta1), g.mul(grad, mScale));
    const v = g.add(g.scale(inputs.v[name], cfg.adamBeta2), g.mul(g.mul(grad, grad), vScale));
    const denom = g.add(g.mul(g.sqrt(v), sqrtScale), epsScaled);
    const lrScale = inputs.lrScales?.[name] ?? 1;
    let p = g.sub(inputs.params[name], g.scale(g.div(m, denom), lrScale));
    if (cfg.decoderUnitNorm && name === dec) p = normalizeRows(g, p);
    out.params[name] = p;
    out.m[name] = m;
    out.v[name] = v;
  }
  return out;
}
