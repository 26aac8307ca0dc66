/**
 * xoshiro128** (Blackman & Vigna 2018): a small, fast 32-bit PRNG whose whole state is four
 * uint32 words, so it goes into a checkpoint and a resumed run draws exactly the same numbers.
 * Seeded through splitmix32 so nearby seeds give unrelated streams.
 */
import { shuffleInPlace } from '../../lib/core/prng.js';

export type PrngState = [number, number, number, number];

export class Prng {
  private s: Uint32Array;

  constructor(state: PrngState) {
    this.s = Uint32Array.from(state);
    if (this.s.every((w) => w === 0)) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** A generator for `seed` and an optional stream label (e.g. 'data', epoch, shard). */
  static fromSeed(seed: number, ...stream: (number | string)[]): Prng {
    let h = splitmix32(seed >>> 0);
    for (const part of stream) {
      const value = typeof part === 'number' ? part : hashString(part);
      h = splitmix32((h ^ value) >>> 0);
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      h = splitmix32(h + 0x9e3779b9);
      words.push(h);
    }
    return new Prng(words as PrngState);
  }

  state(): PrngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, bound), unbiased (rejection sampling). */
  nextInt(bound: number): number {
    if (bound <= 0 || bound > 0x100000000) throw new RangeError(`bound ${bound} out of (0, 2^32]`);
    const limit = 0x100000000 - (0x100000000 % bound);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % bound;
    }
  }

  /** Standard normal (Box-Muller; one value per call so the state alone determines the stream). */
  nextNormal(): number {
    const u1 = 1 - this.nextFloat();
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number }>(array: T): T {
    return shuffleInPlace(array, (n) => this.nextInt(n));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
