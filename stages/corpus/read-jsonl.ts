import { isUtf8 } from 'node:buffer';
import type { ChunkRange, DecodedChunk } from './decoded-chunks.js';
import { readPlainChunks, readZstdChunks } from './decoded-chunks.js';
import { checkText, normalizeMeta, type CorpusRecord, type SourceReadOptions } from './corpus-record.js';
import { isCorruption } from './skip-log.js';
import { splitLines } from './split-lines.js';

/**
 * A JSON lines file, plain or zstd. `onCorrupt` gets corrupt or truncated zstd data; the read then
 * ends (a zstd stream cannot be re-entered after damage).
 */
export interface JsonlReadOptions extends SourceReadOptions {
  compressed: boolean;
  /** Plain files: byte range of whole lines (from the shard plan). */
  range?: ChunkRange;
  /** 1-based number of the first line of the range. */
  firstLine?: number;
  /** Lines up to and including this number are passed over without parsing (resume). */
  skipThroughLine?: number;
}

/**
 * Streams the usable records of a .jsonl or .jsonl.zst file in The Pile layout
 * ({"text": ..., "meta": {"pile_set_name": ...}}); bad lines go to the skip log (or throw
 * under the 'fail' policy). Never holds more than one decoded chunk plus one line.
 */
export async function* readJsonlRecords(options: JsonlReadOptions): AsyncGenerator<CorpusRecord> {
  const chunks: AsyncIterable<DecodedChunk> = options.compressed
    ? readZstdChunks(options.path)
    : readPlainChunks(options.path, options.range);
  const skipThrough = options.skipThroughLine ?? 0;
  try {
    for await (const raw of splitLines(chunks, options.firstLine ?? 1, options.range?.start ?? 0)) {
      options.onSourceOffset?.(raw.sourceOffset);
      if (raw.line <= skipThrough) continue;
      const location = `${options.relPath}:${raw.line}`;
      const record = parseLine(raw.bytes, location, options);
      if (record) yield { ...record, line: raw.line, byteOffset: raw.byteOffset };
    }
  } catch (error) {
    // Only the decoder's own errors: a bad record under 'fail' (also BAD_INPUT) has no corruption reason.
    if (!options.onCorrupt || !isCorruption(error)) throw error;
    options.onCorrupt(error);
  }
}

function parseLine(
  bytes: Buffer,
  location: string,
  options: JsonlReadOptions,
): Omit<CorpusRecord, 'line' | 'byteOffset'> | null {
  if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0x0d)) {
    options.skips.record('blank-line', location);
    return null;
  }
  if (!isUtf8(bytes)) {
    options.skips.record('invalid-utf8', location, 'line bytes are not valid UTF-8');
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    options.skips.record('malformed-json', location, (error as Error).message);
    return null;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    options.skips.record('malformed-json', location, 'line is not a JSON object');
    return null;
  }
  const object = value as Record<string, unknown>;
  const text = object[options.textField];
  const problem = checkText(text, { maxDocChars: options.maxDocChars });
  if (problem) {
    options.skips.record(problem.reason, location, problem.detail);
    return null;
  }
  return { text: text as string, meta: normalizeMeta(object[options.metaField]), file: options.relPath, location };
}
