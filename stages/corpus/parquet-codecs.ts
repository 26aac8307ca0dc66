import { createRequire } from 'node:module';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Compressors } from 'hyparquet';

const zstd = createRequire(import.meta.url)('zstd-napi') as { decompress(data: Uint8Array): Buffer };

/**
 * Decompressors that hyparquet lacks out of the box (it has snappy): ZSTD through the same
 * maintained native zstd as the JSON-lines reader, GZIP and BROTLI through node:zlib. Hugging
 * Face's Parquet conversions use snappy or zstd.
 */
export const parquetCompressors: Compressors = {
  ZSTD: (input) => new Uint8Array(zstd.decompress(input)),
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};
