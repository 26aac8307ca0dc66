import { parquetReadObjects, parquetSchema } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { badInput, TsaeError } from '../../lib/core/errors.js';
import { checkText, normalizeMeta, type CorpusRecord, type SourceReadOptions } from './corpus-record.js';
import { parquetCompressors } from './parquet-codecs.js';
import { openParquet, rowGroupOffset } from './parquet-metadata.js';
import { isCorruption } from './skip-log.js';

/**
 * A Parquet file. `onCorrupt` gets an unreadable footer (the read ends) or a row group whose pages
 * do not decode (the read goes on with the next group: groups are independent).
 */
export interface ParquetReadOptions extends SourceReadOptions {
  /** Row range [rowStart, rowEnd) from the shard plan; whole file when absent. */
  rowStart?: number;
  rowEnd?: number;
  /** Rows before this index are passed over without decoding text checks (resume). */
  skipBeforeRow?: number;
}

/** Row-group boundaries of a Parquet file: starts[i] is the first row of group i, last entry = row count. */
export async function parquetRowGroupStarts(path: string): Promise<number[]> {
  const { metadata } = await openParquet(path, 'corpus');
  return rowGroupStarts(metadata);
}

function rowGroupStarts(metadata: FileMetaData): number[] {
  const starts = [0];
  for (const group of metadata.row_groups) starts.push(starts[starts.length - 1] + Number(group.num_rows));
  return starts;
}

/**
 * Streams the records of a Parquet corpus file (The Pile's Parquet conversion: a text column
 * and a meta column holding a struct or a JSON string), one row group in memory at a time.
 */
export async function* readParquetRecords(options: ParquetReadOptions): AsyncGenerator<CorpusRecord> {
  let opened: Awaited<ReturnType<typeof openParquet>>;
  try {
    opened = await openParquet(options.path, 'corpus');
  } catch (error) {
    if (!options.onCorrupt || !isCorruption(error)) throw error;
    return options.onCorrupt(error);
  }
  const { file, metadata } = opened;
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  if (!columns.includes(options.textField)) {
    throw badInput(`Parquet corpus file ${options.path} has no column '${options.textField}'; its columns: ${columns.join(', ')}. ` +
      'Set textField to the column that holds the document text.', { file: options.path });
  }
  const wanted = columns.includes(options.metaField) ? [options.textField, options.metaField] : [options.textField];
  const starts = rowGroupStarts(metadata);
  const rowStart = options.rowStart ?? 0;
  const rowEnd = options.rowEnd ?? starts[starts.length - 1];
  for (let g = 0; g + 1 < starts.length; g++) {
    const from = Math.max(starts[g], rowStart, options.skipBeforeRow ?? 0);
    const to = Math.min(starts[g + 1], rowEnd);
    if (from >= to) continue;
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, columns: wanted, rowStart: from, rowEnd: to, compressors: parquetCompressors });
    } catch (error) {
      const corrupt = corruptRowGroup(options.path, rowGroupOffset(metadata, g), from, to, error);
      if (!options.onCorrupt) throw corrupt;
      options.onCorrupt(corrupt);
      continue;
    }
    options.onSourceOffset?.(Math.round((file.byteLength * to) / Math.max(1, starts[starts.length - 1])));
    for (let i = 0; i < rows.length; i++) {
      const row = from + i;
      const location = `${options.relPath}#${row}`;
      const text = rows[i][options.textField];
      const problem = checkText(text, { maxDocChars: options.maxDocChars });
      if (problem) {
        options.skips.record(problem.reason, location, problem.detail);
        continue;
      }
      yield { text: text as string, meta: normalizeMeta(rows[i][options.metaField]), file: options.relPath, line: row, location };
    }
  }
}

function corruptRowGroup(path: string, byteOffset: number, from: number, to: number, error: unknown): TsaeError {
  const why = error instanceof Error ? error.message : String(error);
  return new TsaeError(
    'BAD_INPUT',
    `Corrupt Parquet data in ${path}: the row group at byte ${byteOffset} (rows ${from}-${to - 1}) does not decode: ${why}. ` +
      'Re-create the file, or set corpus.badInput: skip to record the row group and go on with the next.',
    { retryable: false, details: { file: path, byteOffset, rows: [from, to], reason: 'corrupt-parquet' }, cause: error },
  );
}
