/**
 * Seeded pseudo-random numbers for the evaluations (negative sampling, word splits, ICL
 * examples), so one eval config always gives the same numbers. mulberry32: 32-bit state,
 * fast, good enough for sampling (not for cryptography); the generator is lib/core/prng.ts.
 */
import { mulberry32, shuffleInPlace } from '../../lib/core/prng.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

export function createRng(seed: number): Rng {
  // The golden-ratio xor keeps seed 0 away from mulberry32's all-zero start.
  const next = mulberry32((seed >>> 0) ^ 0x9e3779b9);
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** A shuffled copy (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  return shuffleInPlace(items.slice(), rng.int);
}

/** `k` distinct items drawn without replacement (all of them, shuffled, when k >= length). */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, rng: Rng): T[] {
  return shuffled(items, rng).slice(0, Math.min(k, items.length));
}
