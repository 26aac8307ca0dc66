import type { ActivationTable } from '../../schemas/activation-shard.js';
import { halfLookup } from '../../lib/core/half.js';

/**
 * Context windows of an activation table: rows are ordered by (row_id, position), so a window
 * is a contiguous run of tokens; a new one starts where row_id changes or the position does
 * not increase.
 */
export interface TokenWindow {
  /** First token row in the table. */
  start: number;
  /** Number of tokens. */
  length: number;
}

export function splitWindows(table: ActivationTable): TokenWindow[] {
  const windows: TokenWindow[] = [];
  let start = 0;
  for (let i = 1; i <= table.count; i++) {
    const boundary =
      i === table.count || table.rowIds[i] !== table.rowIds[i - 1] || table.positions[i] <= table.positions[i - 1];
    if (boundary) {
      windows.push({ start, length: i - start });
      start = i;
    }
  }
  return table.count === 0 ? [] : windows;
}

/** Groups consecutive windows into batches of at most `size` windows. */
export function batchWindows(windows: readonly TokenWindow[], size: number): TokenWindow[][] {
  const out: TokenWindow[][] = [];
  for (let i = 0; i < windows.length; i += size) out.push(windows.slice(i, i + size));
  return out;
}

/**
 * Activation rows [start, start + count) as float32 [count, dModel]: a view when the table is
 * float32, decoded from float16 otherwise.
 */
export function activationRows(table: ActivationTable, start: number, count: number): Float32Array {
  const d = table.dModel;
  if (table.values instanceof Float32Array) return table.values.subarray(start * d, (start + count) * d);
  const half = table.values.subarray(start * d, (start + count) * d);
  const out = new Float32Array(half.length);
  const lut = halfLookup();
  for (let i = 0; i < half.length; i++) out[i] = lut[half[i]];
  return out;
}

/** Token rows of a batch of windows, concatenated: activations [tokens, dModel] and indices. */
export function batchRows(table: ActivationTable, batch: readonly TokenWindow[]): { x: Float32Array; rows: number; first: number } {
  const first = batch[0].start;
  const last = batch[batch.length - 1];
  const rows = last.start + last.length - first;
  return { x: activationRows(table, first, rows), rows, first };
}
