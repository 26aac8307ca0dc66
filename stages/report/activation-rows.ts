/**
 * Gathers rows of an activation table into a dense float32 batch for an encoder, decoding
 * float16 storage (raw IEEE half bits; Node 20 has no Float16Array) on the fly.
 */
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { halfLookup } from '../../lib/core/half.js';

/**
 * Rows `rows` of the table as a [rows.length, dModel] float32 batch.
 * @param rows table row indices (any order; repeated rows are copied again)
 */
export function readRows(table: ActivationTable, rows: number[]): Float32Array {
  const d = table.dModel;
  const out = new Float32Array(rows.length * d);
  if (table.values instanceof Float32Array) {
    const values = table.values;
    rows.forEach((r, i) => out.set(values.subarray(r * d, (r + 1) * d), i * d));
    return out;
  }
  const lut = halfLookup();
  const values = table.values;
  rows.forEach((r, i) => {
    const src = r * d;
    const dst = i * d;
    for (let k = 0; k < d; k++) out[dst + k] = lut[values[src + k]];
  });
  return out;
}
