import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { TsaeError } from '../../lib/core/errors.js';

/** The part of zstd-napi's native binding used here: ZSTD_decompressStream with offsets we can track. */
interface ZstdDCtx {
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}
interface ZstdBinding {
  DCtx: new () => ZstdDCtx;
}
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;

/** Decompressed output buffer per native call: large enough that the per-call overhead is small. */
const OUT_CHUNK_BYTES = 1 << 20;
const READ_CHUNK_BYTES = 1 << 20;

export interface DecodedChunk {
  /** Decompressed bytes, in order. */
  data: Buffer;
  /** Bytes of the source file consumed once this chunk was produced (for progress). */
  sourceOffset: number;
}

export interface ChunkRange {
  /** First byte to read (plain files only). */
  start?: number;
  /** End byte, exclusive (plain files only). */
  end?: number;
}

/** Streams a plain file's bytes, optionally a byte range of it. */
export async function* readPlainChunks(path: string, range: ChunkRange = {}): AsyncGenerator<DecodedChunk> {
  const start = range.start ?? 0;
  if (range.end !== undefined && range.end <= start) return;
  const stream = createReadStream(path, {
    start,
    end: range.end === undefined ? undefined : range.end - 1,
    highWaterMark: READ_CHUNK_BYTES,
  });
  let offset = start;
  for await (const chunk of stream) {
    offset += (chunk as Buffer).length;
    yield { data: chunk as Buffer, sourceOffset: offset };
  }
}

/**
 * Streams the decompressed bytes of a .zst file (one or more frames). A corrupt or truncated
 * file throws a non-retryable BAD_INPUT error naming the file and the compressed byte offset,
 * which a stream wrapper cannot report; hence the native context is driven directly.
 */
export async function* readZstdChunks(path: string): AsyncGenerator<DecodedChunk> {
  const size = (await stat(path)).size;
  const dctx = new zstd.DCtx();
  let offset = 0; // compressed bytes consumed
  let frameStart = 0;
  let inFrame = false;
  for await (const raw of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) {
    let src = raw as Buffer;
    for (;;) {
      const dst = Buffer.allocUnsafe(OUT_CHUNK_BYTES);
      let ret: number, produced: number, consumed: number;
      try {
        [ret, produced, consumed] = dctx.decompressStream(dst, src);
      } catch (error) {
        throw corruptZstd(path, offset, frameStart, error);
      }
      offset += consumed;
      src = src.subarray(consumed);
      if (ret === 0) frameStart = offset;
      inFrame = ret !== 0;
      if (produced > 0) yield { data: dst.subarray(0, produced), sourceOffset: offset };
      // Done with this input once it is used up and the context has nothing left to flush.
      if (src.length === 0 && (produced < dst.length || ret === 0)) break;
    }
  }
  if (inFrame) {
    throw new TsaeError(
      'BAD_INPUT',
      `Truncated zstd file ${path}: it ends at byte ${size} inside the frame that starts at byte ${frameStart}. ` +
        REPAIR_HINT,
      { details: { file: path, byteOffset: size, frameStart, reason: 'truncated-zstd' } },
    );
  }
}

const REPAIR_HINT =
  'Re-download or re-compress the file, or set corpus.badInput: skip to keep the documents before the damage, ' +
  'record it in the shard manifest and go on; other shards are not affected.';

function corruptZstd(path: string, offset: number, frameStart: number, error: unknown): TsaeError {
  const why = error instanceof Error ? error.message : String(error);
  return new TsaeError(
    'BAD_INPUT',
    `Corrupt zstd data in ${path} at compressed byte offset ${offset} (frame starting at byte ${frameStart}): ${why}. ` +
      REPAIR_HINT,
    { details: { file: path, byteOffset: offset, frameStart, reason: 'corrupt-zstd' }, cause: error },
  );
}
