/**
 * The training graph: an ONNX Loop that runs `trip` optimizer steps per session.run, with
 * parameters, Adam moments, variant state and the dead-latent counter loop-carried, so only the
 * final values are copied out (the prototype measured 60-67% of the MatMul ceiling with one step
 * per run and 75-82% with 8). Inputs are zero-copy; fp16 activations are Cast inside the graph.
 *
 * Inputs:  trip int64 [], xs [M, rows, d_in] (float16 | float32), schedule [M, 5] float32
 *          (lr_t / bc1, sqrt(bc2), sparsity warm-up factor, 0-based step, lr_t / lr), normScale [], atr: tokenMasks and
 *          pairMasks [M, rows]; param:<p>, m:<p>, v:<p>, state:<s>, sinceFired [n].
 * Outputs: next:<same names>, acc:fired [n], acc:tokens [], atr: acc:actSum, acc:actSqSum [n],
 *          metrics [M, metricNames.length].
 */
import { GraphBuilder, type ElemType, type Val } from '../../lib/onnx/graph-builder.js';
import type { TrainConfig } from '../../schemas/train.js';
import { buildOptimizer } from './optimizer-graph.js';
import { resolveTrainConfig } from './resolve-config.js';
import { variantFor } from './variants/index.js';
import type { ParamSpec, StepOutputs } from './variants/types.js';

export const SCHEDULE_COLUMNS = ['stepSize', 'bc2Sqrt', 'sparsityScale', 'step', 'controlFactor'] as const;

export interface StepGraph {
  model: Uint8Array;
  params: ParamSpec[];
  state: string[];
  metricNames: string[];
  /** Names of the per-run accumulator outputs (without the `acc:` prefix). */
  accumulators: string[];
}

export interface StepGraphDims {
  rows: number;
  dIn: number;
  dSae: number;
}

interface Carried {
  key: string;
  value: Val;
}

/** Outer-graph inputs the loop body reads by name (outer-scope values). */
interface StepContext {
  cfg: TrainConfig;
  dims: StepGraphDims;
  dataType: 'float16' | 'float32';
  params: ParamSpec[];
  stateNames: string[];
  carried: Carried[];
  xs: Val;
  schedule: Val;
  normScale: Val;
  tokenMasks?: Val;
  pairMasks?: Val;
}

export function buildStepGraph(config: TrainConfig, dims: StepGraphDims, dataType: 'float16' | 'float32'): StepGraph {
  const cfg = resolveTrainConfig(config);
  const variant = variantFor(cfg.variant);
  const { rows, dIn, dSae } = dims;
  const g = new GraphBuilder('float32');
  const atr = cfg.variant === 'atr';
  const trip = g.input('trip', [], 'int64');
  const params = variant.params(dIn, dSae);
  const stateNames = Object.keys(variant.initialState(cfg, dIn));
  const ctx: StepContext = {
    cfg, dims, dataType, params, stateNames, carried: [],
    xs: g.input('xs', ['M', rows, dIn], dataType as ElemType),
    schedule: g.input('schedule', ['M', SCHEDULE_COLUMNS.length]),
    normScale: g.input('normScale', []),
    tokenMasks: atr ? g.input('tokenMasks', ['M', rows]) : undefined,
    pairMasks: atr ? g.input('pairMasks', ['M', rows]) : undefined,
  };
  const carried = ctx.carried;
  for (const p of params) for (const kind of ['param', 'm', 'v']) carried.push({ key: `${kind}:${p.name}`, value: g.input(`${kind}:${p.name}`, p.shape) });
  for (const s of stateNames) carried.push({ key: `state:${s}`, value: g.input(`state:${s}`, []) });
  carried.push({ key: 'sinceFired', value: g.input('sinceFired', [dSae]) });
  const accumulators = ['fired', 'tokens', ...(atr ? ['actSum', 'actSqSum'] : [])];
  for (const a of accumulators) carried.push({ key: `acc:${a}`, value: a === 'tokens' ? g.scalar(0) : g.zeros(g.ints([dSae])) });

  let metricNames: string[] = [];
  const outs = g.loop(trip, carried.map((c) => ({ value: c.value })), (b, iter, values) => {
    const cur: Record<string, Val> = {};
    carried.forEach((c, i) => (cur[c.key] = values[i]));
    const { next, metrics } = buildStepBody(b, ctx, iter, cur);
    metricNames = metrics.names;
    return { carried: carried.map((c) => next[c.key]), scans: [{ value: metrics.vector }] };
  });
  carried.forEach((c, i) => g.output(c.key.startsWith('acc:') ? c.key : `next:${c.key}`, outs[i]));
  g.output('metrics', outs[carried.length]);
  return { model: g.toModel('train_step'), params, state: stateNames, metricNames, accumulators };
}

/** One optimizer step inside the loop: batch `iter`, current carried values `cur` -> next values and metrics. */
function buildStepBody(b: GraphBuilder, ctx: StepContext, iter: Val, cur: Record<string, Val>): { next: Record<string, Val>; metrics: { names: string[]; vector: Val } } {
  const { cfg, dims, params, stateNames } = ctx;
  const variant = variantFor(cfg.variant);
  const xRaw = b.gather(ctx.xs, iter, 0);
  const x = b.mul(ctx.dataType === 'float16' ? b.cast(xRaw, 'float32') : xRaw, ctx.normScale);
  const sched = b.gather(ctx.schedule, iter, 0);
  const column = (name: (typeof SCHEDULE_COLUMNS)[number]) => b.gather(sched, b.ints([SCHEDULE_COLUMNS.indexOf(name)], []), 0);
  const window = cfg.deadWindowTokens;
  const tokenMask = ctx.tokenMasks ? b.gather(ctx.tokenMasks, iter, 0) : undefined;
  const pick = (prefix: string) => Object.fromEntries(params.map((p) => [p.name, cur[`${prefix}:${p.name}`]]));
  const out = variant.buildStep({
    g: b, cfg, ...dims, x, params: pick('param'), sparsityScale: column('sparsityScale'), step: column('step'), controlFactor: column('controlFactor'),
    deadMask: b.step(cur.sinceFired, b.scalar(window - 0.5)),
    tokenMask, pairMask: ctx.pairMasks ? b.gather(ctx.pairMasks, iter, 0) : undefined,
    state: Object.fromEntries(stateNames.map((s) => [s, cur[`state:${s}`]])),
    mode: 'train', frozen: (_name, live) => live,
  });
  const opt = buildOptimizer(b, cfg, {
    params: pick('param'), grads: out.grads, m: pick('m'), v: pick('v'),
    stepSize: column('stepSize'), bc2Sqrt: column('bc2Sqrt'), decoder: variant.decoder, lrScales: variant.lrScales?.(cfg),
  });
  // Dead-latent counter: valid tokens since each latent last fired, saturating at the window.
  const tokens = tokenMask ? b.reduceSum(tokenMask, null) : b.scalar(dims.rows);
  const notFired = b.sub(b.scalar(1), b.step(out.fired, b.scalar(0)));
  const sinceFired = b.min(b.mul(b.add(cur.sinceFired, tokens), notFired), b.scalar(window));
  const next: Record<string, Val> = { sinceFired };
  for (const p of params) {
    next[`param:${p.name}`] = opt.params[p.name];
    next[`m:${p.name}`] = opt.m[p.name];
    next[`v:${p.name}`] = opt.v[p.name];
  }
  for (const s of stateNames) next[`state:${s}`] = out.state[s];
  next['acc:fired'] = b.add(cur['acc:fired'], out.fired);
  next['acc:tokens'] = b.add(cur['acc:tokens'], tokens);
  if (cfg.variant === 'atr' && out.latents && tokenMask) {
    // Eq. 6 statistics over valid tokens: sum f and sum f^2 per latent.
    const w = b.unsqueeze(tokenMask, [0]);
    next['acc:actSum'] = b.add(cur['acc:actSum'], out.latentSums ?? b.reshape(b.matmul(w, out.latents), [-1]));
    next['acc:actSqSum'] = b.add(cur['acc:actSqSum'], b.reshape(b.matmul(w, b.square(out.latents)), [-1]));
  }
  return { next, metrics: stepMetrics(b, out, { x, tokenMask, sinceFired, window, gradNorm: opt.gradNorm }) };
}

/** Per-step scalars: loss, each term, L0, pooled explained variance, dead %, grad norm, extras. */
function stepMetrics(
  g: GraphBuilder,
  out: StepOutputs,
  ctx: { x: Val; tokenMask?: Val; sinceFired: Val; window: number; gradNorm: Val },
): { names: string[]; vector: Val } {
  const { x, tokenMask } = ctx;
  // explained variance, pooled over the batch's valid tokens: 1 - sum ||x - xhat||^2 / sum ||x - mean x||^2
  let centred: Val;
  let err = g.sub(x, out.recon);
  if (tokenMask) {
    const w = g.unsqueeze(tokenMask, [1]);
    const count = g.max(g.reduceSum(tokenMask, null), g.scalar(1));
    const mean = g.div(g.reduceSum(g.mul(x, w), [0], true), count);
    centred = g.mul(g.sub(x, mean), w);
    err = g.mul(err, w);
  } else {
    centred = g.sub(x, g.op1('ReduceMean', [x, g.ints([0])], { keepdims: 1 }));
  }
  const ev = g.sub(g.scalar(1), g.div(g.sumSquares(err), g.max(g.sumSquares(centred), g.scalar(1e-30))));
  const dead = g.scale(g.op1('ReduceMean', [g.step(ctx.sinceFired, g.scalar(ctx.window - 0.5))], { keepdims: 0 }), 100);
  const entries: [string, Val][] = [
    ['loss', out.loss],
    ...Object.entries(out.terms),
    ['l0', out.l0],
    ['explained_variance', ev],
    ['dead_pct', dead],
    ['grad_norm', ctx.gradNorm],
    ...Object.entries(out.extra),
  ];
  const vector = g.concat(entries.map(([, v]) => g.reshape(v, [1])), 0);
  return { names: entries.map(([n]) => n), vector };
}
