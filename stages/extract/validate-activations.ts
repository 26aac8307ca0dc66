import type { ActivationTable } from '../../schemas/activation-shard.js';
import { TsaeError } from '../../lib/core/errors.js';

/** fp16 bit pattern with every exponent bit set: Inf or NaN. */
const HALF_EXPONENT = 0x7c00;

/**
 * Checks an activation table before training or evaluating on it: the width the consumer
 * expects, and finite values only (a NaN or Inf activation would silently poison an SAE).
 * Errors name the file, the row and the column.
 */
export function validateActivations(table: ActivationTable, source: string, expectedDModel?: number): void {
  if (expectedDModel !== undefined && table.dModel !== expectedDModel) {
    throw new TsaeError('BAD_INPUT', `${source}: activations have d_model ${table.dModel}, expected ${expectedDModel} (a shard from another model or layer?)`, {
      details: { source, dModel: table.dModel, expected: expectedDModel },
    });
  }
  // Special positions are excluded from training and metrics, and a BOS residual may overflow
  // float16 legitimately (Gemma's BOS norm is huge), so only the other rows must be finite.
  const { values, dModel } = table;
  const half = table.dtype === 'float16';
  for (let row = 0; row < table.count; row++) {
    if (table.isSpecial[row]) continue;
    const column = half ? firstNonFiniteHalf(values as Uint16Array, row * dModel, dModel) : firstNonFinite(values as Float32Array, row * dModel, dModel);
    if (column < 0) continue;
    throw new TsaeError('BAD_INPUT', `${source}: non-finite activation (NaN or Inf) at row ${row} (position ${table.positions[row]} of window ${table.rowIds[row]}), column ${column}`, {
      details: { source, row, column },
    });
  }
}

function firstNonFiniteHalf(values: Uint16Array, start: number, length: number): number {
  for (let i = 0; i < length; i++) if ((values[start + i] & HALF_EXPONENT) === HALF_EXPONENT) return i;
  return -1;
}

function firstNonFinite(values: Float32Array, start: number, length: number): number {
  for (let i = 0; i < length; i++) if (!Number.isFinite(values[start + i])) return i;
  return -1;
}
