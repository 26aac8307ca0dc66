import type { DecodedChunk } from './decoded-chunks.js';

const NEWLINE = 0x0a;

/** One line of a JSON-lines stream, without its newline. */
export interface RawLine {
  bytes: Buffer;
  /** 1-based line number. */
  line: number;
  /** Offset of the line's first byte in the decompressed stream. */
  byteOffset: number;
  /** Source-file bytes consumed when the line was complete (for progress). */
  sourceOffset: number;
}

/**
 * Splits a byte stream into lines at '\n' without decoding, so invalid UTF-8 is caught per line
 * and a line's location stays exact. A final line without a newline is still yielded; an empty
 * final segment (the file ends with '\n') is not a line.
 */
export async function* splitLines(
  chunks: AsyncIterable<DecodedChunk>,
  firstLine = 1,
  firstByteOffset = 0,
): AsyncGenerator<RawLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = firstLine;
  let lineStart = firstByteOffset;
  let sourceOffset = 0;
  for await (const chunk of chunks) {
    sourceOffset = chunk.sourceOffset;
    const data = chunk.data;
    let from = 0;
    for (;;) {
      const nl = data.indexOf(NEWLINE, from);
      if (nl < 0) break;
      const piece = data.subarray(from, nl);
      const bytes = pendingBytes === 0 ? Buffer.from(piece) : Buffer.concat([...pending, piece]);
      yield { bytes, line, byteOffset: lineStart, sourceOffset };
      lineStart += bytes.length + 1;
      line += 1;
      pending = [];
      pendingBytes = 0;
      from = nl + 1;
    }
    if (from < data.length) {
      // Copy: the producer may reuse or hold large buffers; keep only the tail we need.
      pending.push(Buffer.from(data.subarray(from)));
      pendingBytes += data.length - from;
    }
  }
  if (pendingBytes > 0) yield { bytes: Buffer.concat(pending), line, byteOffset: lineStart, sourceOffset };
}
