import { readFile } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { openParquet } from '../corpus/parquet-metadata.js';
import type { SchemaElement } from 'hyparquet-writer';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { TokenRow } from '../../schemas/token-shard.js';
import { sha256Hex, writeFileAtomic } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';
import { parquetCompressors } from '../corpus/parquet-codecs.js';

/**
 * Token shards: the Parquet contract of schemas/token-shard.ts, written with hyparquet-writer
 * and read with hyparquet (pure JS, maintained, Node 20; streaming reads by row group from a
 * file; see README "Parquet library"). Lists use the standard 3-level LIST layout, so pyarrow
 * reads them as list<int32> / list<bool> / list<string>.
 */

const CREATED_BY = 'temporal-sae tokenize (hyparquet-writer)';

function listOf(name: string, element: Omit<SchemaElement, 'name'>): SchemaElement[] {
  return [
    { name, repetition_type: 'REQUIRED', num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'REQUIRED', ...element },
  ];
}

const UTF8: Omit<SchemaElement, 'name'> = { type: 'BYTE_ARRAY', converted_type: 'UTF8' };

export const TOKEN_SHARD_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 8 },
  { name: 'row_id', type: 'INT64', repetition_type: 'REQUIRED' },
  ...listOf('input_ids', { type: 'INT32' }),
  ...listOf('special_mask', { type: 'BOOLEAN' }),
  ...listOf('doc_ids', UTF8),
  ...listOf('doc_starts', { type: 'INT32' }),
  ...listOf('doc_offsets', { type: 'INT32' }),
  ...listOf('source_sets', UTF8),
  { name: 'split', repetition_type: 'REQUIRED', ...UTF8 },
];

/** Encodes rows as Parquet bytes; the same rows always give the same bytes (no timestamps). */
export function encodeTokenShard(rows: readonly TokenRow[], rowGroupRows: number): Uint8Array {
  const buffer = parquetWriteBuffer({
    schema: TOKEN_SHARD_SCHEMA,
    columnData: [
      { name: 'row_id', data: BigInt64Array.from(rows, (r) => BigInt(r.rowId)) },
      { name: 'input_ids', data: rows.map((r) => Array.from(r.inputIds)) },
      { name: 'special_mask', data: rows.map((r) => Array.from(r.specialMask, (m) => m !== 0)) },
      { name: 'doc_ids', data: rows.map((r) => r.docIds) },
      { name: 'doc_starts', data: rows.map((r) => r.docStarts) },
      { name: 'doc_offsets', data: rows.map((r) => r.docOffsets) },
      { name: 'source_sets', data: rows.map((r) => r.sourceSets) },
      { name: 'split', data: rows.map((r) => r.split) },
    ],
    rowGroupSize: rowGroupRows,
    createdBy: CREATED_BY,
  });
  return new Uint8Array(buffer);
}

/** Writes a token shard atomically; returns its size and sha256. */
export async function writeTokenShard(
  path: string,
  rows: readonly TokenRow[],
  options: { rowGroupRows?: number } = {},
): Promise<{ bytes: number; sha256: string }> {
  const bytes = encodeTokenShard(rows, options.rowGroupRows ?? 1024);
  await writeFileAtomic(path, bytes);
  return { bytes: bytes.length, sha256: sha256Hex(bytes) };
}

/** Rows in a token shard, from its footer only. */
export async function countTokenRows(path: string): Promise<number> {
  const { metadata } = await openParquet(path, 'token shard');
  return Number(metadata.num_rows);
}

/** Streams the rows of a token shard, one row group in memory at a time. */
export async function* readTokenShard(path: string): AsyncGenerator<TokenRow> {
  const { file, metadata } = await openParquet(path, 'token shard');
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    const rows = await parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end, compressors: parquetCompressors });
    for (const row of rows) yield toTokenRow(row, path);
    start = end;
  }
}

function toTokenRow(row: Record<string, unknown>, path: string): TokenRow {
  const split = row.split;
  if (split !== 'train' && split !== 'val' && split !== 'test') {
    throw new TsaeError('CORRUPT_ARTIFACT', `Token shard ${path}: row ${String(row.row_id)} has split ${String(split)}; allowed: train, val, test`);
  }
  return {
    rowId: Number(row.row_id),
    inputIds: Int32Array.from(row.input_ids as number[]),
    specialMask: Uint8Array.from(row.special_mask as boolean[], (b) => (b ? 1 : 0)),
    docIds: row.doc_ids as string[],
    docStarts: row.doc_starts as number[],
    docOffsets: row.doc_offsets as number[],
    sourceSets: row.source_sets as string[],
    split,
  };
}

/** sha256 of a file already written (used when a resumed attempt verifies earlier files). */
export async function sha256OfFile(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}
