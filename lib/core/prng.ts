/**
 * mulberry32 (Tommy Ettinger, public domain): one 32-bit word of state, fast, good enough for
 * sampling and made-up test data (not for cryptography, not for training: stages/train/prng.ts
 * uses xoshiro128** because its state must go into a checkpoint). The one copy in the project;
 * evaluation sampling (stages/evaluate/random.ts), the synthetic report input and the spec fuzzer
 * all draw from it, so a seed gives the same sequence everywhere.
 */

/** A generator of uniform numbers in [0, 1) for `seed` (taken as uint32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** In-place Fisher-Yates shuffle with `int(n)` uniform in [0, n): the one copy for every generator. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(items: T, int: (n: number) => number): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
