/**
 * Contract between the extract stage (writer) and the train / evaluate stages (readers).
 *
 * An activation shard is an Arrow IPC file with one row per token, rows ordered by
 * (row_id, position) so every context window is a contiguous run of rows:
 *   activation  FixedSizeList<Float16 | Float32>[d_model]   residual stream after block L
 *   token_id    int32
 *   row_id      int32    context window index within the source token shard
 *   position    int32    position inside the window
 *   doc_index   int32    index into the window's doc_ids (a temporal pair (t-1, t) is valid
 *                        only with equal row_id and doc_index and neither token special)
 *   doc_id      dictionary<utf8>
 *   source_set  dictionary<utf8>
 *   is_special  bool
 */
export interface ActivationTable {
  dModel: number;
  dtype: 'float16' | 'float32';
  /** Number of tokens (rows). */
  count: number;
  /** [count * dModel] row-major; float16 values are raw IEEE half bits in a Uint16Array. */
  values: Float32Array | Uint16Array;
  tokenIds: Int32Array;
  rowIds: Int32Array;
  positions: Int32Array;
  docIndex: Int32Array;
  /** 1 where the token is special (excluded from training and metrics). */
  isSpecial: Uint8Array;
  /** Per-token source set name (decoded from the dictionary column). */
  sourceSets: string[];
}
