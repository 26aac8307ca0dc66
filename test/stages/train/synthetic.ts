/**
 * Synthetic activations with a known sparse dictionary: `features` random unit directions in
 * `dIn` dims; each token is a non-negative combination of about `active` of them (plus a small
 * offset and noise). Tokens come in context windows of `seqLen` positions; position 0 of each
 * window is a special (BOS-like) token, and within a window active features persist with
 * probability `persist` from one position to the next, so temporal structure exists.
 */
import type { ActivationTable } from '../../../schemas/activation-shard.js';
import { Prng } from '../../../stages/train/prng.js';

export interface SyntheticOptions {
  dIn: number;
  features: number;
  active: number;
  tokens: number;
  seqLen: number;
  seed: number;
  dtype?: 'float16' | 'float32';
  persist?: number;
  noise?: number;
}

export function syntheticDictionary(opts: SyntheticOptions): Float32Array {
  const rng = Prng.fromSeed(opts.seed, 'dictionary');
  const dict = new Float32Array(opts.features * opts.dIn);
  for (let f = 0; f < opts.features; f++) {
    let norm = 0;
    for (let j = 0; j < opts.dIn; j++) norm += (dict[f * opts.dIn + j] = rng.nextNormal()) ** 2;
    for (let j = 0; j < opts.dIn; j++) dict[f * opts.dIn + j] /= Math.sqrt(norm);
  }
  return dict;
}

export function syntheticTable(opts: SyntheticOptions, dict = syntheticDictionary(opts)): ActivationTable {
  const { dIn, features, tokens, seqLen } = opts;
  const rng = Prng.fromSeed(opts.seed, 'tokens');
  const values = new Float32Array(tokens * dIn);
  const rowIds = new Int32Array(tokens);
  const positions = new Int32Array(tokens);
  const isSpecial = new Uint8Array(tokens);
  const pActive = opts.active / features;
  const persist = opts.persist ?? 0;
  let prev = new Set<number>();
  for (let t = 0; t < tokens; t++) {
    const pos = t % seqLen;
    rowIds[t] = Math.floor(t / seqLen);
    positions[t] = pos;
    const row = values.subarray(t * dIn, (t + 1) * dIn);
    if (pos === 0) {
      isSpecial[t] = 1;
      for (let j = 0; j < dIn; j++) row[j] = 3 + 0.1 * j; // a constant, large BOS vector
      prev = new Set();
      continue;
    }
    const on = new Set<number>();
    for (const f of prev) if (rng.nextFloat() < persist) on.add(f);
    const fresh = Math.max(0, opts.active - on.size);
    for (let i = 0; i < fresh; i++) on.add(rng.nextInt(features));
    if (pActive <= 0) on.clear();
    for (const f of on) {
      const magnitude = 0.5 + rng.nextFloat();
      for (let j = 0; j < dIn; j++) row[j] += magnitude * dict[f * dIn + j];
    }
    for (let j = 0; j < dIn; j++) row[j] += 0.05 + (opts.noise ?? 0) * rng.nextNormal();
    prev = on;
  }
  const dtype = opts.dtype ?? 'float32';
  return {
    dModel: dIn,
    dtype,
    count: tokens,
    values: dtype === 'float16' ? toHalf(values) : values,
    tokenIds: new Int32Array(tokens),
    rowIds,
    positions,
    docIndex: new Int32Array(tokens),
    isSpecial,
    sourceSets: new Array(tokens).fill('synthetic'),
  };
}

/** Round-to-nearest-even float32 -> IEEE half bits (test data only; the trainer casts in-graph). */
export function toHalf(values: Float32Array): Uint16Array {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    let exp = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    if (exp >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (exp <= 0) {
      if (exp < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - exp;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (exp << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
}

/** Fraction of true directions whose best-matching decoder row has cosine > threshold. */
export function recoveredFraction(dict: Float32Array, features: number, decoder: Float32Array, dSae: number, dIn: number, threshold = 0.9): number {
  const norms = new Float64Array(dSae);
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) s += decoder[i * dIn + j] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  let recovered = 0;
  for (let f = 0; f < features; f++) {
    let best = -1;
    for (let i = 0; i < dSae; i++) {
      let dot = 0;
      for (let j = 0; j < dIn; j++) dot += dict[f * dIn + j] * decoder[i * dIn + j];
      best = Math.max(best, dot / norms[i]);
    }
    if (best > threshold) recovered++;
  }
  return recovered / features;
}
