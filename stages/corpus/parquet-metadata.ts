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
    const code = what === 'corpus' ? 'BAD_INPUT' : 'CORRUPT_ARTIFACT';
    throw new TsaeError(code, `${path} is not a readable Parquet ${what} file (${(error as Error).message}); re-create it or remove it from the corpus`, {
      retryable: false,
      details: { file: path },
    });
  }
}
