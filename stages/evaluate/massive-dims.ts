import type { ActivationTable } from '../../schemas/activation-shard.js';
import { activationRows, type TokenWindow } from './activation-windows.js';

/**
 * Massive-activation dimensions (Sun et al. 2024, "Massive Activations in Large Language
 * Models"): a few residual dimensions carry most of E||x||^2. On Gemma 3 270M layer 6 three
 * dimensions (87, 163, 400) hold 93% of it, and explained variance is dominated by how well an
 * SAE reconstructs them (issue 13). We report explained variance also without them.
 *
 * Rule (from the data, on exactly the tokens the metric uses): dimension j is excluded when its
 * share of E||x||^2 over the eval set's non-special tokens, sum_t x_tj^2 / sum_t ||x_t||^2,
 * exceeds `threshold`. Shares add to 1, so at most 1 / threshold dimensions can be excluded
 * (19 at the default 0.05, whatever the width), and a residual without massive dimensions
 * (every share near 1/d) excludes none.
 */
export interface MassiveDims {
  rule: string;
  threshold: number;
  /** Excluded dimensions, ascending. */
  dims: number[];
  /** Each excluded dimension's share of E||x||^2 (same order as dims). */
  share_of_mean_squared_norm: number[];
  /** Their summed share of E||x||^2. */
  total_share_of_mean_squared_norm: number;
  /** Non-special tokens the shares were computed on. */
  tokens: number;
}

export const MASSIVE_DIMS_RULE = 'dimensions whose share of E||x||^2 over the eval non-special tokens exceeds the threshold';

/** Per-dimension sum of x^2 over the non-special tokens of `windows` -> the dims above `threshold`. */
export function findMassiveDims(table: ActivationTable, windows: readonly TokenWindow[], threshold: number): MassiveDims {
  const d = table.dModel;
  const sq = new Float64Array(d);
  let tokens = 0;
  for (const w of windows) {
    const x = activationRows(table, w.start, w.length);
    for (let r = 0; r < w.length; r++) {
      if (table.isSpecial[w.start + r]) continue;
      tokens++;
      for (let j = 0; j < d; j++) sq[j] += x[r * d + j] * x[r * d + j];
    }
  }
  return massiveDimsFromSquares(sq, tokens, threshold);
}

/** The rule applied to per-dimension sums of squares [d]. */
export function massiveDimsFromSquares(sq: Float64Array, tokens: number, threshold: number): MassiveDims {
  let total = 0;
  for (const v of sq) total += v;
  const dims: number[] = [];
  const shares: number[] = [];
  for (let j = 0; j < sq.length; j++) {
    const share = total > 0 ? sq[j] / total : 0;
    if (share > threshold) dims.push(j), shares.push(share);
  }
  return {
    rule: MASSIVE_DIMS_RULE,
    threshold,
    dims,
    share_of_mean_squared_norm: shares,
    total_share_of_mean_squared_norm: shares.reduce((a, b) => a + b, 0),
    tokens,
  };
}
