/**
 * Contract between the tokenize stage (writer) and the extract stage (reader).
 *
 * A token shard is a Parquet file with one row per context window:
 *   row_id       int64          global, deterministic index of the row within its shard
 *   input_ids    list<int32>    token ids, length <= context length (BOS included when the model expects it)
 *   special_mask list<bool>     true where input_ids[i] is a special token (BOS/EOS/PAD/...)
 *   doc_ids      list<utf8>     ids of the documents this row overlaps, in order
 *   doc_starts   list<int32>    position in the row where each of those documents starts (first is 0)
 *   doc_offsets  list<int32>    token offset inside each document of its first token in this row
 *   source_sets  list<utf8>     meta.pile_set_name of each of those documents
 *   split        utf8           train | val | test (by document hash)
 * In truncation mode each row holds one document; in packing mode several.
 */
export interface TokenRow {
  rowId: number;
  /** [T] token ids. */
  inputIds: Int32Array;
  /** [T] 1 where the token is special. */
  specialMask: Uint8Array;
  docIds: string[];
  docStarts: number[];
  docOffsets: number[];
  sourceSets: string[];
  split: 'train' | 'val' | 'test';
}
