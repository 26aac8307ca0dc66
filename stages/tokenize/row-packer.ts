import type { PackingMode, Split } from '../../schemas/corpus.js';
import type { TokenRow } from '../../schemas/token-shard.js';

export interface PackerOptions {
  mode: PackingMode;
  contextLength: number;
  /** Token that starts every row (BOS when the model expects it), or null. */
  rowStartId: number | null;
  /** Pack mode: token placed before each document (BOS) / after each document (EOS), or null. */
  docStartId: number | null;
  docEndId: number | null;
  specialIds: ReadonlySet<number>;
}

export interface PackerDoc {
  id: string;
  sourceSet: string;
  /** [n] the document's text tokens, no special tokens. */
  tokens: Int32Array;
}

/** A row without its row id (assigned by the stage in emission order). */
export type PackedRow = Omit<TokenRow, 'rowId'>;

interface RowDoc {
  id: string;
  start: number;
  offset: number;
  sourceSet: string;
}

/** JSON form of a packer's unfinished row, saved in checkpoints. */
export interface PackerState {
  ids: number[];
  docs: RowDoc[];
}

/**
 * Turns documents of one split into rows of at most contextLength tokens.
 *
 * Pack mode: each document becomes the stream [docStart?] + tokens + [docEnd?], streams are
 * concatenated and cut into rows that each begin with rowStartId. A document's leading BOS that
 * would directly follow a row's BOS is dropped (the row's BOS stands for it), so a document that
 * starts a row looks exactly as when fed alone. doc_offsets index into the document's stream,
 * doc_starts are row positions (the first document of a row is at 0 by definition).
 * Truncate mode: one row per document, [rowStart?] + tokens cut to fit; the rest is dropped.
 */
export class RowPacker {
  private ids: Int32Array;
  private length = 0;
  private docs: RowDoc[] = [];

  constructor(
    readonly split: Split,
    private readonly options: PackerOptions,
    state?: PackerState,
  ) {
    this.ids = new Int32Array(options.contextLength);
    if (state) {
      this.ids.set(state.ids);
      this.length = state.ids.length;
      this.docs = state.docs.map((d) => ({ ...d }));
    }
  }

  /** Adds a document; returns the rows it completed and how many of its tokens were dropped. */
  add(doc: PackerDoc): { rows: PackedRow[]; dropped: number } {
    if (this.options.mode === 'truncate') return this.truncate(doc);
    const { docStartId, docEndId, rowStartId, contextLength } = this.options;
    const stream = withBoundaries(doc.tokens, docStartId, docEndId);
    const rows: PackedRow[] = [];
    let pos = 0;
    let registered = false;
    while (pos < stream.length) {
      if (this.length === 0 && rowStartId !== null) this.ids[this.length++] = rowStartId;
      if (!registered) {
        const fresh = this.docs.length === 0;
        // The row's own BOS already marks this document's start: do not repeat it.
        const merge = fresh && pos === 0 && docStartId !== null && docStartId === rowStartId && this.length === 1;
        if (merge) pos = 1;
        this.docs.push({ id: doc.id, start: fresh ? 0 : this.length, offset: merge ? 0 : pos, sourceSet: doc.sourceSet });
        registered = true;
      }
      const take = Math.min(contextLength - this.length, stream.length - pos);
      this.ids.set(stream.subarray(pos, pos + take), this.length);
      this.length += take;
      pos += take;
      if (this.length === contextLength) {
        rows.push(this.emit());
        registered = false;
      }
    }
    return { rows, dropped: 0 };
  }

  /** The unfinished row, if it holds any document tokens (end of the shard). */
  flush(): PackedRow | null {
    return this.docs.length > 0 ? this.emit() : null;
  }

  state(): PackerState {
    return { ids: Array.from(this.ids.subarray(0, this.length)), docs: this.docs.map((d) => ({ ...d })) };
  }

  private truncate(doc: PackerDoc): { rows: PackedRow[]; dropped: number } {
    const { rowStartId, contextLength } = this.options;
    if (rowStartId !== null) this.ids[this.length++] = rowStartId;
    const take = Math.min(contextLength - this.length, doc.tokens.length);
    this.ids.set(doc.tokens.subarray(0, take), this.length);
    this.length += take;
    this.docs.push({ id: doc.id, start: 0, offset: 0, sourceSet: doc.sourceSet });
    return { rows: [this.emit()], dropped: doc.tokens.length - take };
  }

  private emit(): PackedRow {
    const inputIds = this.ids.slice(0, this.length);
    const specialMask = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) specialMask[i] = this.options.specialIds.has(inputIds[i]) ? 1 : 0;
    const row: PackedRow = {
      inputIds,
      specialMask,
      docIds: this.docs.map((d) => d.id),
      docStarts: this.docs.map((d) => d.start),
      docOffsets: this.docs.map((d) => d.offset),
      sourceSets: this.docs.map((d) => d.sourceSet),
      split: this.split,
    };
    this.length = 0;
    this.docs = [];
    return row;
  }
}

function withBoundaries(tokens: Int32Array, startId: number | null, endId: number | null): Int32Array {
  if (startId === null && endId === null) return tokens;
  const out = new Int32Array(tokens.length + (startId === null ? 0 : 1) + (endId === null ? 0 : 1));
  let at = 0;
  if (startId !== null) out[at++] = startId;
  out.set(tokens, at);
  if (endId !== null) out[at + tokens.length] = endId;
  return out;
}
