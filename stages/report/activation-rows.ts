/**
 * Gathers rows of an activation table into a dense float32 batch for an encoder, decoding
 * float16 storage (raw IEEE half bits; Node 20 has no Float16Array) on the fly.
 */
import type { ActivationTable } from '../../schemas/activation-shard.js';

/** Float value of IEEE 754 half-precision bits (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

let halfTable: Float32Array | null = null;

/** All 65,536 half values, built once (256 KB), so decoding is one lookup per element. */
function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) halfTable[b] = halfToFloat(b);
  }
  return halfTable;
}

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
