/**
 * IEEE 754 half precision (float16) decoding: Node 20 has no Float16Array, and activation shards
 * store fp16 as raw bits (Uint16Array).
 */

/** Float value of half-precision bits (subnormals, infinities and NaN included). */
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
export function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) halfTable[b] = halfToFloat(b);
  }
  return halfTable;
}
