import type { ActivationTable } from '../../schemas/activation-shard.js';
import { badInput } from '../../lib/core/errors.js';

/**
 * Concatenates activation tables (e.g. the parts of several extraction units) into one.
 * Row ids are offset per table so windows of different tables never look consecutive (a
 * temporal pair needs equal row ids).
 */
export function concatActivationTables(tables: ActivationTable[]): ActivationTable {
  if (tables.length === 0) throw badInput('no activation tables to concatenate');
  if (tables.length === 1) return tables[0];
  const { dModel, dtype } = tables[0];
  for (const [i, t] of tables.entries()) {
    if (t.dModel !== dModel || t.dtype !== dtype) {
      throw badInput(`activation table ${i} has d_model ${t.dModel} / ${t.dtype}, expected ${dModel} / ${dtype} like table 0`);
    }
  }
  const count = tables.reduce((sum, t) => sum + t.count, 0);
  const values = dtype === 'float16' ? new Uint16Array(count * dModel) : new Float32Array(count * dModel);
  const out: ActivationTable = {
    dModel,
    dtype,
    count,
    values,
    tokenIds: new Int32Array(count),
    rowIds: new Int32Array(count),
    positions: new Int32Array(count),
    docIndex: new Int32Array(count),
    isSpecial: new Uint8Array(count),
    sourceSets: [],
  };
  let at = 0;
  let rowOffset = 0;
  for (const t of tables) {
    (values as Uint16Array).set(t.values as Uint16Array, at * dModel);
    out.tokenIds.set(t.tokenIds, at);
    out.positions.set(t.positions, at);
    out.docIndex.set(t.docIndex, at);
    out.isSpecial.set(t.isSpecial, at);
    let maxRow = -1;
    for (let i = 0; i < t.count; i++) {
      out.rowIds[at + i] = t.rowIds[i] + rowOffset;
      if (t.rowIds[i] > maxRow) maxRow = t.rowIds[i];
    }
    for (const s of t.sourceSets) out.sourceSets.push(s);
    rowOffset += maxRow + 1;
    at += t.count;
  }
  return out;
}
