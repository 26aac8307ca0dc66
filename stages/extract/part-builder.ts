/**
 * Accumulates token rows of one activation part: per-token columns grow in chunks and are
 * concatenated once when the part is taken (one copy of the activations per part).
 */
import type { TokenRow } from '../../schemas/token-shard.js';
import type { ActivationShardData } from './activation-shard-io.js';

export class PartBuilder {
  rows = 0;
  count = 0;
  private chunks: (Float32Array | Uint16Array)[] = [];
  private tokenIds: number[] = [];
  private rowIds: number[] = [];
  private positions: number[] = [];
  private docIndex: number[] = [];
  private special: number[] = [];
  private docIds: string[] = [];
  private sourceSets: string[] = [];

  constructor(
    private readonly dModel: number,
    private readonly dtype: 'float16' | 'float32',
  ) {}

  /** Adds one row; `values` is [row length, dModel] (a view; copied here). */
  addRow(row: TokenRow, values: Float32Array | Uint16Array): void {
    this.chunks.push(values.slice());
    let doc = 0;
    for (let p = 0; p < row.inputIds.length; p++) {
      // doc_index: the last document that starts at or before p (docStarts ascending, first 0).
      while (doc + 1 < row.docStarts.length && row.docStarts[doc + 1] <= p) doc++;
      this.tokenIds.push(row.inputIds[p]);
      this.rowIds.push(row.rowId);
      this.positions.push(p);
      this.docIndex.push(doc);
      this.special.push(row.specialMask[p] ? 1 : 0);
      this.docIds.push(row.docIds[doc] ?? '');
      this.sourceSets.push(row.sourceSets[doc] ?? '');
    }
    this.rows++;
    this.count += row.inputIds.length;
  }

  /** The accumulated part as shard data, and a reset builder. */
  take(): ActivationShardData & { rowCount: number; specialCount: number } {
    const values = this.dtype === 'float16' ? new Uint16Array(this.count * this.dModel) : new Float32Array(this.count * this.dModel);
    let at = 0;
    for (const c of this.chunks) {
      values.set(c as any, at);
      at += c.length;
    }
    const isSpecial = Uint8Array.from(this.special);
    const shard = {
      dModel: this.dModel,
      dtype: this.dtype,
      count: this.count,
      values,
      tokenIds: Int32Array.from(this.tokenIds),
      rowIds: Int32Array.from(this.rowIds),
      positions: Int32Array.from(this.positions),
      docIndex: Int32Array.from(this.docIndex),
      isSpecial,
      sourceSets: this.sourceSets,
      docIds: this.docIds,
      rowCount: this.rows,
      specialCount: isSpecial.reduce((a, b) => a + b, 0),
    };
    this.rows = 0;
    this.count = 0;
    this.chunks = [];
    this.tokenIds = [];
    this.rowIds = [];
    this.positions = [];
    this.docIndex = [];
    this.special = [];
    this.docIds = [];
    this.sourceSets = [];
    return shard;
  }
}
