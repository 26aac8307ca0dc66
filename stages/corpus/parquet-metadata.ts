import { asyncBufferFromFile, parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { TsaeError } from '../../lib/core/errors.js';

/**
 * Opens a Parquet file and reads its footer; a file that is not Parquet (truncated, corrupt,
 * wrong format) fails with an error naming it instead of hyparquet's bare message.
 */
export async function openParquet(path: string, what: 'corpus' | 'token shard'): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  let file: AsyncBuffer;
  try {
    file = await asyncBufferFromFile(path);
  } catch (error) {
    throw new TsaeError('NOT_FOUND', `Cannot open ${what} file ${path}: ${(error as Error).message}`, { details: { file: path } });
  }
  try {
    return { file, metadata: await parquetMetadataAsync(file) };
  } catch (error) {
    if (what === 'token shard') {
      throw new TsaeError('CORRUPT_ARTIFACT', `${path} is not a readable Parquet token shard file (${(error as Error).message})`, {
        retryable: false,
        details: { file: path },
      });
    }
    // The footer (metadata, its length, "PAR1") sits at the end: a truncated file loses it first.
    const byteOffset = Math.max(0, file.byteLength - 8);
    throw new TsaeError(
      'BAD_INPUT',
      `${path} is not a readable Parquet corpus file: its footer at byte ${byteOffset} does not parse (${(error as Error).message}). ` +
        'Re-create the file or remove it from the corpus, or set corpus.badInput: skip to record it and go on.',
      { retryable: false, details: { file: path, byteOffset, reason: 'unreadable-parquet' } },
    );
  }
}

/** File offset where a row group's data starts (its first column chunk's first page). */
export function rowGroupOffset(metadata: FileMetaData, group: number): number {
  const column = metadata.row_groups[group]?.columns[0]?.meta_data;
  if (!column) return 0;
  return Number(column.dictionary_page_offset ?? column.data_page_offset);
}
