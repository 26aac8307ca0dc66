/**
 * Per-shard token bookkeeping for batches.ts: which tokens train (special tokens and norm
 * outliers do not), the sequences atr's [sequences x positions] batches are cut from, and the
 * token norms the outlier filter and the median norm come from.
 */
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { halfLookup } from '../../lib/core/half.js';

/** ||x_i|| [count] of every token of a table (raw units). */
export function tokenNorms(table: ActivationTable): Float64Array {
  const { count, dModel: d, values } = table;
  const out = new Float64Array(count);
  const half = values instanceof Uint16Array ? halfLookup() : null;
  for (let i = 0; i < count; i++) {
    let s = 0;
    const base = i * d;
    if (half) for (let j = 0; j < d; j++) s += half[values[base + j]] ** 2;
    else for (let j = 0; j < d; j++) s += values[base + j] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** [count] 1 where a token is special or (when maxNorm is set) its norm exceeds maxNorm. */
export function tokenNormsAbove(table: ActivationTable, maxNorm?: number): Uint8Array {
  const out = Uint8Array.from(table.isSpecial, (s) => (s !== 0 ? 1 : 0));
  if (maxNorm === undefined || !Number.isFinite(maxNorm)) return out;
  const norms = tokenNorms(table);
  for (let i = 0; i < table.count; i++) if (norms[i] > maxNorm) out[i] = 1;
  return out;
}

/** Indices of tokens that are not special. */
export function nonSpecialTokens(table: ActivationTable): Int32Array {
  let count = 0;
  for (let i = 0; i < table.count; i++) if (table.isSpecial[i] === 0) count++;
  const out = new Int32Array(count);
  for (let i = 0, j = 0; i < table.count; i++) if (table.isSpecial[i] === 0) out[j++] = i;
  return out;
}

/**
 * Sequences: runs of equal row_id (context windows; rows are contiguous per window), cut into
 * pieces of at most seqLen positions. Pieces without a usable token (`excluded` 0; default:
 * non-special) are dropped.
 */
export function sequenceWindows(table: ActivationTable, seqLen: number, excluded: Uint8Array = table.isSpecial): { starts: Int32Array; lengths: Int32Array } {
  const starts: number[] = [];
  const lengths: number[] = [];
  let i = 0;
  while (i < table.count) {
    let end = i + 1;
    while (end < table.count && table.rowIds[end] === table.rowIds[i]) end++;
    for (let s = i; s < end; s += seqLen) {
      const len = Math.min(seqLen, end - s);
      let valid = false;
      for (let t = s; t < s + len; t++) if (excluded[t] === 0) valid = true;
      if (valid) {
        starts.push(s);
        lengths.push(len);
      }
    }
    i = end;
  }
  return { starts: Int32Array.from(starts), lengths: Int32Array.from(lengths) };
}

/** Longest context window (run of equal row_id) in a shard: the default seqLen. */
export function longestWindow(table: ActivationTable): number {
  let best = 0;
  let i = 0;
  while (i < table.count) {
    let end = i + 1;
    while (end < table.count && table.rowIds[end] === table.rowIds[i]) end++;
    best = Math.max(best, end - i);
    i = end;
  }
  return best;
}
