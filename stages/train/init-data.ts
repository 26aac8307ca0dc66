/**
 * Data-derived initial values: the input scale c (normalizeActivations 'expected-norm': c =
 * sqrt(d_in) / mean ||x||, SAELens 'expected_average_only_in') and b_dec (geometric median,
 * the Weiszfeld iteration as in Bricken et al. 2023, or mean), both from a token sample that
 * is cast to float32 inside an onnxruntime graph.
 */
import { GraphBuilder } from '../../lib/onnx/graph-builder.js';
import { createSession, Tensor } from '../../lib/onnx/backend.js';
import type { TrainConfig } from '../../schemas/train.js';
import { BatchStream, type TrainData } from './batches.js';

/** Up to `count` non-special tokens in a seeded order (mixed like training batches), as float32 [rows, d]. */
export async function sampleTokens(data: TrainData, dIn: number, dtype: 'float16' | 'float32', count: number, seed: number, bufferBytes = 0): Promise<{ x: Float32Array; rows: number }> {
  const stream = new BatchStream(data, { mode: 'token', batchSize: count, seqLen: 1, seed: seed ^ 0x5eed, bufferBytes }, dIn, dtype);
  const raw = dtype === 'float16' ? new Uint16Array(count * dIn) : new Float32Array(count * dIn);
  await stream.fill({ xs: raw }, 0);
  if (raw instanceof Float32Array) return { x: raw, rows: count };
  return { x: await castToFloat32(raw, count, dIn), rows: count };
}

async function castToFloat32(raw: Uint16Array, rows: number, dIn: number): Promise<Float32Array> {
  const g = new GraphBuilder('float32');
  g.output('y', g.cast(g.input('x', [rows, dIn], 'float16'), 'float32'));
  const session = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: 1 });
  const out = await session.run({ x: new Tensor('float16', raw, [rows, dIn]) });
  await session.release();
  return out.y.data as Float32Array;
}

/** Median of ||x_r|| over the rows of x [rows, d]. */
export function medianNorm(x: Float32Array, rows: number, dIn: number): number {
  const norms = rowNorms(x, rows, dIn).sort();
  return rows % 2 ? norms[(rows - 1) / 2] : (norms[rows / 2 - 1] + norms[rows / 2]) / 2;
}

function rowNorms(x: Float32Array, rows: number, dIn: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) s += x[r * dIn + j] ** 2;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** The rows of x [rows, d] with ||x_r|| <= maxNorm (all rows when maxNorm is infinite). */
export function rowsWithin(x: Float32Array, rows: number, dIn: number, maxNorm: number): { x: Float32Array; rows: number } {
  if (!Number.isFinite(maxNorm)) return { x, rows };
  const norms = rowNorms(x, rows, dIn);
  const keep = Array.from({ length: rows }, (_, r) => r).filter((r) => norms[r] <= maxNorm);
  const out = new Float32Array(keep.length * dIn);
  keep.forEach((r, i) => out.set(x.subarray(r * dIn, (r + 1) * dIn), i * dIn));
  return { x: out, rows: keep.length };
}

/** c with mean ||c x|| = sqrt(d_in), or 1 when normalisation is off. */
export function normalisationScale(cfg: TrainConfig, x: Float32Array, rows: number, dIn: number): number {
  if (cfg.normalizeActivations === 'none') return 1;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) s += x[r * dIn + j] ** 2;
    total += Math.sqrt(s);
  }
  const mean = total / rows;
  return mean > 0 ? Math.sqrt(dIn) / mean : 1;
}

/** b_dec [d] for inputs already multiplied by `scale`. */
export function initialDecoderBias(cfg: TrainConfig, x: Float32Array, rows: number, dIn: number, scale: number): Float32Array {
  if (cfg.bDecInit === 'zeros') return new Float32Array(dIn);
  const centre = cfg.bDecInit === 'mean' ? mean(x, rows, dIn) : geometricMedian(x, rows, dIn);
  return Float32Array.from(centre, (v) => v * scale);
}

function mean(x: Float32Array, rows: number, dIn: number): Float64Array {
  const out = new Float64Array(dIn);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dIn; j++) out[j] += x[r * dIn + j];
  return out.map((v) => v / rows);
}

/** Weiszfeld's algorithm: the point minimising the sum of Euclidean distances to the rows. */
export function geometricMedian(x: Float32Array, rows: number, dIn: number, maxIter = 100, tol = 1e-6): Float64Array {
  let point = mean(x, rows, dIn);
  for (let iter = 0; iter < maxIter; iter++) {
    const next = new Float64Array(dIn);
    let weightSum = 0;
    for (let r = 0; r < rows; r++) {
      let dist = 0;
      for (let j = 0; j < dIn; j++) dist += (x[r * dIn + j] - point[j]) ** 2;
      const w = 1 / Math.max(Math.sqrt(dist), 1e-12);
      weightSum += w;
      for (let j = 0; j < dIn; j++) next[j] += w * x[r * dIn + j];
    }
    let moved = 0;
    let norm = 0;
    for (let j = 0; j < dIn; j++) {
      next[j] /= weightSum;
      moved += (next[j] - point[j]) ** 2;
      norm += next[j] ** 2;
    }
    point = next;
    if (Math.sqrt(moved) <= tol * Math.max(Math.sqrt(norm), 1)) break;
  }
  return point;
}
