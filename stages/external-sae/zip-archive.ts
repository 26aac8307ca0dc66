/**
 * The entries of a ZIP archive held in memory, for PyTorch checkpoints (`torch.save` since 1.6
 * writes a ZIP of stored, uncompressed entries: `<prefix>/data.pkl`, `<prefix>/data/<key>` ...).
 * Reads the central directory (ZIP64 included, which torch uses for files over 4 GB) and returns
 * views into the buffer; compressed entries are refused, since torch never writes them.
 * Layout: PKWARE APPNOTE.TXT sections 4.3.7 (local header), 4.3.12 (central directory),
 * 4.3.14-16 (ZIP64 end records), 4.5.3 (ZIP64 extra field).
 */
import { badInput } from '../../lib/core/errors.js';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

/** Entry name -> its bytes (a view into `bytes`). */
export function zipEntries(bytes: Buffer, path: string): Map<string, Buffer> {
  const fail = (what: string) => badInput(`${path}: not a readable ZIP archive (${what})`, { file: path });
  const eocd = findEocd(bytes);
  if (eocd < 0) throw fail('no end-of-central-directory record');
  let count = bytes.readUInt16LE(eocd + 10);
  let dirOffset = bytes.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || bytes.readUInt32LE(locator) !== ZIP64_LOCATOR) throw fail('ZIP64 sizes without a ZIP64 locator');
    const record = Number(bytes.readBigUInt64LE(locator + 8));
    if (record + 56 > bytes.length || bytes.readUInt32LE(record) !== ZIP64_EOCD) throw fail('bad ZIP64 end record');
    count = Number(bytes.readBigUInt64LE(record + 32));
    dirOffset = Number(bytes.readBigUInt64LE(record + 48));
  }
  const entries = new Map<string, Buffer>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== CENTRAL) throw fail(`central directory entry ${i} at byte ${at}`);
    const method = bytes.readUInt16LE(at + 10);
    const nameLength = bytes.readUInt16LE(at + 28);
    const extraLength = bytes.readUInt16LE(at + 30);
    const commentLength = bytes.readUInt16LE(at + 32);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const sizes = zip64Sizes(bytes, at, nameLength, extraLength);
    if (method !== 0) throw badInput(`${path}: entry '${name}' is compressed (method ${method}); PyTorch checkpoints store entries uncompressed`, { file: path });
    entries.set(name, entryData(bytes, sizes.localOffset, sizes.size, name, fail));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEocd(bytes: Buffer): number {
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - MAX_COMMENT); at--) {
    if (bytes.readUInt32LE(at) === EOCD) return at;
  }
  return -1;
}

/** Compressed size and local header offset, taken from the ZIP64 extra field where they overflow. */
function zip64Sizes(bytes: Buffer, at: number, nameLength: number, extraLength: number): { size: number; localOffset: number } {
  let size = bytes.readUInt32LE(at + 20);
  let uncompressed = bytes.readUInt32LE(at + 24);
  let localOffset = bytes.readUInt32LE(at + 42);
  let extra = at + 46 + nameLength;
  const end = extra + extraLength;
  while (extra + 4 <= end) {
    const id = bytes.readUInt16LE(extra);
    const length = bytes.readUInt16LE(extra + 2);
    if (id === 0x0001) {
      // Only the overflowing fields are present, in this order (APPNOTE 4.5.3).
      let field = extra + 4;
      const next = () => {
        const value = Number(bytes.readBigUInt64LE(field));
        field += 8;
        return value;
      };
      if (uncompressed === 0xffffffff) uncompressed = next();
      if (size === 0xffffffff) size = next();
      if (localOffset === 0xffffffff) localOffset = next();
    }
    extra += 4 + length;
  }
  return { size, localOffset };
}

function entryData(bytes: Buffer, localOffset: number, size: number, name: string, fail: (what: string) => Error): Buffer {
  if (localOffset + 30 > bytes.length || bytes.readUInt32LE(localOffset) !== LOCAL) throw fail(`local header of '${name}'`);
  const start = localOffset + 30 + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
  if (start + size > bytes.length) throw fail(`entry '${name}' runs past the end of the file`);
  return bytes.subarray(start, start + size);
}
