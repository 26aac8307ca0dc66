/**
 * atr's position-aware resampling (TemporalSAE paper, Sec. 4, Eq. 6), every resampleEvery steps:
 *
 *   s_i = mean_t |f_t,i| * (1 + gamma var_t f_t,i)                                    (Eq. 6)
 *
 * Decisions on the open questions (atr-open-questions.md), each a knob in schemas/train.ts:
 * - Q5: the statistics window is a ring buffer of per-run sums (fired count, sum f, sum f^2, and
 *   valid tokens), covering the last historyWindowSteps steps, never raw activations. mean and
 *   var are over the valid tokens in the window (f >= 0, so |f| = f).
 * - Q4: the paper gives two rules (bottom 10th percentile of s_i; "features below 1% activation").
 *   resampleRule 'both' (default) resamples latents that meet both, i.e. low-scoring latents that
 *   also fire on fewer than resampleMaxFireRate of tokens, so healthy latents in the bottom decile
 *   are not churned every 500 steps; 'percentile' and 'fire-rate' apply one rule.
 *   "gamma penalizes high variance" contradicts Eq. 6 (variance raises s_i); we implement Eq. 6.
 * - "reinitialized using high-error examples" (Anthropic 2023 resampling, adapted): tokens of the
 *   latest run are drawn with probability proportional to the square of their reconstruction
 *   loss ||x - xhat||^2, without replacement and never among massive-norm tokens (drawWeights);
 *   latent i gets decoder row r/||r|| for the drawn token's residual
 *   r = x - xhat, encoder column resampleEncoderScale * (mean alive encoder norm) * r/||r||,
 *   b_enc_i so that it fires on targetL0 / n of the sample's tokens (firingBiases), and its Adam
 *   moments and dead-latent counter reset.
 */
import { GraphBuilder } from '../../lib/onnx/graph-builder.js';
import { createSession, Tensor } from '../../lib/onnx/backend.js';
import type { AtrConfig } from '../../schemas/train.js';
import type { Prng } from './prng.js';
import type { TrainState } from './step-runner.js';

/** Tokens above this multiple of the median token norm are never drawn for reinitialisation. */
export const RESAMPLE_NORM_MULTIPLE = 5;

export interface WindowEntry {
  steps: number;
  tokens: number;
  fired: Float32Array;
  actSum: Float32Array;
  actSqSum: Float32Array;
}

/** Per-latent statistics of the last `windowSteps` steps, as per-run sums. */
export class StatsWindow {
  constructor(
    readonly windowSteps: number,
    readonly entries: WindowEntry[] = [],
  ) {}

  push(entry: WindowEntry): void {
    this.entries.push(entry);
    let total = this.entries.reduce((s, e) => s + e.steps, 0);
    while (this.entries.length > 1 && total - this.entries[0].steps >= this.windowSteps) total -= this.entries.shift()!.steps;
  }

  totals(dSae: number): { tokens: number; fired: Float64Array; actSum: Float64Array; actSqSum: Float64Array } {
    const fired = new Float64Array(dSae);
    const actSum = new Float64Array(dSae);
    const actSqSum = new Float64Array(dSae);
    let tokens = 0;
    for (const e of this.entries) {
      tokens += e.tokens;
      for (let i = 0; i < dSae; i++) {
        fired[i] += e.fired[i];
        actSum[i] += e.actSum[i];
        actSqSum[i] += e.actSqSum[i];
      }
    }
    return { tokens, fired, actSum, actSqSum };
  }

  /** Forgets the history of reinitialised latents. */
  reset(latents: Int32Array): void {
    for (const e of this.entries) for (const i of latents) e.fired[i] = e.actSum[i] = e.actSqSum[i] = 0;
  }
}

/** Eq. 6 scores and fire rates over the window. */
export function resampleScores(window: StatsWindow, dSae: number, gamma: number): { scores: Float64Array; fireRate: Float64Array } {
  const t = window.totals(dSae);
  const n = Math.max(t.tokens, 1);
  const scores = new Float64Array(dSae);
  const fireRate = new Float64Array(dSae);
  for (let i = 0; i < dSae; i++) {
    const mean = t.actSum[i] / n;
    const variance = Math.max(t.actSqSum[i] / n - mean * mean, 0);
    scores[i] = mean * (1 + gamma * variance);
    fireRate[i] = t.fired[i] / n;
  }
  return { scores, fireRate };
}

/** Latents to reinitialise under cfg.resampleRule. */
export function selectForResampling(cfg: AtrConfig, scores: Float64Array, fireRate: Float64Array): Int32Array {
  const n = scores.length;
  const bottom = new Uint8Array(n);
  const count = Math.floor((n * cfg.resamplePercentile) / 100);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b] || a - b);
  for (let r = 0; r < count; r++) bottom[order[r]] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const low = fireRate[i] < cfg.resampleMaxFireRate;
    const pick = cfg.resampleRule === 'percentile' ? bottom[i] === 1 : cfg.resampleRule === 'fire-rate' ? low : bottom[i] === 1 && low;
    if (pick) out.push(i);
  }
  return Int32Array.from(out);
}

/** Residuals r = x - xhat [rows, d] and per-token losses [rows] of the current ReLU SAE. */
async function residuals(state: TrainState, xs: Float32Array | Uint16Array, rows: number, dIn: number, dSae: number, normScale: number) {
  const g = new GraphBuilder('float32');
  const raw = g.input('x', [rows, dIn], xs instanceof Uint16Array ? 'float16' : 'float32');
  const x = g.mul(xs instanceof Uint16Array ? g.cast(raw, 'float32') : raw, g.scalar(normScale));
  const [W_enc, b_enc, W_dec, b_dec] = [g.input('W_enc', [dIn, dSae]), g.input('b_enc', [dSae]), g.input('W_dec', [dSae, dIn]), g.input('b_dec', [dIn])];
  const f = g.relu(g.gemm(g.sub(x, b_dec), W_enc, { c: b_enc }));
  const residual = g.sub(x, g.gemm(f, W_dec, { c: b_dec }));
  g.output('residual', residual);
  g.output('loss', g.reduceSum(g.square(residual), [1]));
  g.output('norm', g.sqrt(g.reduceSum(g.square(x), [1])));
  const session = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: 0 });
  const p = state.params;
  const out = await session.run({
    x: new Tensor(xs instanceof Uint16Array ? 'float16' : 'float32', xs.subarray(0, rows * dIn), [rows, dIn]),
    W_enc: new Tensor('float32', p.W_enc, [dIn, dSae]),
    b_enc: new Tensor('float32', p.b_enc, [dSae]),
    W_dec: new Tensor('float32', p.W_dec, [dSae, dIn]),
    b_dec: new Tensor('float32', p.b_dec, [dIn]),
  });
  await session.release();
  return { residual: out.residual.data as Float32Array, loss: out.loss.data as Float32Array, norm: out.norm.data as Float32Array };
}

/**
 * Reinitialises `latents` in place in `state` from the tokens in `xs` (the latest run; rows
 * with tokenMask 0 are never drawn). Returns the number of latents reinitialised.
 */
export async function resampleLatents(
  cfg: AtrConfig,
  state: TrainState,
  latents: Int32Array,
  sample: { xs: Float32Array | Uint16Array; tokenMask?: Float32Array; rows: number; dIn: number; normScale: number },
  rng: Prng,
): Promise<number> {
  if (latents.length === 0) return 0;
  const { rows, dIn } = sample;
  const dSae = cfg.dSae;
  const { residual, loss, norm } = await residuals(state, sample.xs, rows, dIn, dSae, sample.normScale);
  const weights = drawWeights(loss, norm, sample.tokenMask);
  const chosen = new Set(latents);
  const aliveNorm = meanEncoderNorm(state.params.W_enc, dIn, dSae, chosen);
  const { W_enc, b_enc, W_dec } = state.params;
  const done: number[] = [];
  for (const i of latents) {
    const t = drawWithoutReplacement(weights, rng);
    if (t < 0) break;
    done.push(i);
    const r = residual.subarray(t * dIn, (t + 1) * dIn);
    const norm = Math.sqrt(r.reduce((s, v) => s + v * v, 0)) || 1;
    for (let j = 0; j < dIn; j++) {
      W_dec[i * dIn + j] = r[j] / norm;
      W_enc[j * dSae + i] = (cfg.resampleEncoderScale * aliveNorm * r[j]) / norm;
    }
    for (const moments of [state.m, state.v]) {
      for (let j = 0; j < dIn; j++) {
        moments.W_dec[i * dIn + j] = 0;
        moments.W_enc[j * dSae + i] = 0;
      }
      moments.b_enc[i] = 0;
    }
    state.sinceFired[i] = 0;
  }
  const biases = await firingBiases(state, Int32Array.from(done), sample, cfg.targetL0 / dSae);
  done.forEach((i, j) => (b_enc[i] = biases[j]));
  return done.length;
}

/**
 * b_enc of new latents so that each fires on `rate` of the sample's valid tokens: minus the
 * (1 - rate) quantile of its pre-activation (x - b_dec) W_enc[:, i]. Anthropic's resampling sets
 * b_enc = 0, but here a residual direction overlaps the massive dimensions every token shares, so
 * such a latent fired on about a third of all tokens (measured on the demo: L0 from 92 to 364 and
 * mse from 43 to 7,082 at the 75% resampling, too late in the LR schedule to recover).
 */
async function firingBiases(state: TrainState, latents: Int32Array, sample: { xs: Float32Array | Uint16Array; tokenMask?: Float32Array; rows: number; dIn: number; normScale: number }, rate: number): Promise<Float32Array> {
  const { rows, dIn, xs } = sample;
  const m = latents.length;
  if (m === 0) return new Float32Array(0);
  const dSae = state.params.b_enc.length;
  const columns = new Float32Array(dIn * m);
  for (let j = 0; j < dIn; j++) for (let c = 0; c < m; c++) columns[j * m + c] = state.params.W_enc[j * dSae + latents[c]];
  const mask = sample.tokenMask ? sample.tokenMask.subarray(0, rows) : new Float32Array(rows).fill(1);
  const valid = mask.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
  const k = Math.max(1, Math.min(valid, Math.round(valid * rate)));
  const g = new GraphBuilder('float32');
  const half = xs instanceof Uint16Array;
  const raw = g.input('x', [rows, dIn], half ? 'float16' : 'float32');
  const x = g.mul(half ? g.cast(raw, 'float32') : raw, g.scalar(sample.normScale));
  const pre = g.matmul(g.sub(x, g.input('b_dec', [dIn])), g.input('W', [dIn, m]));
  const masked = g.add(pre, g.mul(g.unsqueeze(g.sub(g.input('mask', [rows]), g.scalar(1)), [1]), g.scalar(1e30)));
  // GraphBuilder.topk returns unsorted values: the k-th largest is the smallest of the top k.
  g.output('kth', g.reduceMin(g.topk(masked, g.ints([k]), 0)[0], [0]));
  const session = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: 0 });
  const out = await session.run({
    x: new Tensor(half ? 'float16' : 'float32', xs.subarray(0, rows * dIn), [rows, dIn]),
    b_dec: new Tensor('float32', state.params.b_dec, [dIn]),
    W: new Tensor('float32', columns, [dIn, m]),
    mask: new Tensor('float32', mask, [rows]),
  });
  await session.release();
  return (out.kth.data as Float32Array).map((v) => -v);
}

/**
 * Draw weights loss^2 of the valid tokens whose norm is at most RESAMPLE_NORM_MULTIPLE x the
 * median valid norm. Massive-norm tokens (attention sinks, 8-10x the median on Gemma 3 270M) have
 * a loss^2 10^4 times the others', so every latent drew the same one; their residual lies along
 * the massive dimensions every token shares, and the reinitialised latents then fired on every
 * token (measured: the demo's mse rose from 38 to 183,762 at the 75% resampling).
 */
function drawWeights(loss: Float32Array, norm: Float32Array, tokenMask?: Float32Array): Float64Array {
  const valid = Array.from(norm).filter((_, t) => !tokenMask || tokenMask[t] > 0).sort((a, b) => a - b);
  const cut = RESAMPLE_NORM_MULTIPLE * (valid.length ? valid[valid.length >> 1] : Infinity);
  return Float64Array.from(loss, (l, t) => ((!tokenMask || tokenMask[t] > 0) && norm[t] <= cut ? l * l : 0));
}

/** A token index drawn with probability proportional to `weights`, whose weight is then zeroed (-1 if none is left). */
function drawWithoutReplacement(weights: Float64Array, rng: Prng): number {
  let total = 0;
  for (const w of weights) total += w;
  if (!(total > 0)) return -1;
  let target = rng.nextFloat() * total;
  let last = -1;
  for (let t = 0; t < weights.length; t++) {
    if (weights[t] <= 0) continue;
    last = t;
    target -= weights[t];
    if (target < 0) break;
  }
  // `last` is the drawn token (or, after float rounding, the last one with weight).
  weights[last] = 0;
  return last;
}

function meanEncoderNorm(W_enc: Float32Array, dIn: number, dSae: number, exclude: Set<number>): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < dSae; i++) {
    if (exclude.has(i)) continue;
    let s = 0;
    for (let j = 0; j < dIn; j++) s += W_enc[j * dSae + i] ** 2;
    sum += Math.sqrt(s);
    count++;
  }
  return count > 0 ? sum / count : 1;
}


