/**
 * safetensors (huggingface/safetensors format): 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}},
 * then the raw little-endian data; offsets are relative to the first data byte (8 + N).
 *
 * Written: F32 only (what this project exports), the header padded with spaces so the data starts
 * 8-byte aligned; the padding counts UTF-8 bytes, not UTF-16 code units, so non-ASCII metadata
 * keeps the tensors aligned. Read: F32, and F16 / BF16 / F64 widened (or rounded, F64) to float32
 * for external SAEs; any other dtype is refused with the tensor named. The reader checks what the
 * reference implementation checks (safetensors/src/tensor.rs `validate`): a header length within
 * the file and under 100 MB, a JSON object, known dtypes, integer shapes, offsets that match the
 * shape and cover the data contiguously with no holes or overlaps.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/core/atomic-fs.js';
import { badInput } from '../../lib/core/errors.js';
import { halfToFloat } from '../../lib/core/half.js';

export interface NamedTensor {
  data: Float32Array;
  shape: number[];
}

/** One tensor's header entry; `begin`/`end` are byte offsets relative to the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** File offset of the first data byte (8 + header length). */
  dataStart: number;
}

/** Bytes per element of every dtype the format defines (safetensors `Dtype`), sub-byte ones excluded. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8, C64: 8,
};
/** Dtypes the reader turns into Float32Array. */
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
/** The reference implementation's bound (safetensors MAX_HEADER_SIZE). */
const MAX_HEADER_BYTES = 100_000_000;

/** Header bytes for `tensors` in the given order (data laid out contiguously in that order). */
function encodeHeader(tensors: [string, NamedTensor][], metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`tensor ${name}: shape ${t.shape.join('x')} does not match ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - ((json.length + 8) % 8)) % 8; // in bytes: the data starts 8-byte aligned
  const out = Buffer.alloc(8 + json.length + padding, 0x20);
  out.writeBigUInt64LE(BigInt(json.length + padding), 0);
  json.copy(out, 8);
  return out;
}

/** Writes atomically (temporary sibling, fsync, rename), streaming tensor by tensor. */
export async function writeSafetensors(path: string, tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Promise<void> {
  const entries = Object.entries(tensors);
  await writeFileAtomic(path, [encodeHeader(entries, metadata), ...entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
}

/** Parses and validates the header of a safetensors file held in `bytes` (errors name `path`). */
export function parseSafetensorsHeader(bytes: Uint8Array, path: string): SafetensorsHeader {
  if (bytes.length < 8) throw badInput(`${path}: too short for a safetensors file (${bytes.length} bytes)`, { file: path });
  const headerLength = Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw badInput(`${path}: header length ${headerLength} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`, { file: path });
  const dataStart = 8 + Number(headerLength);
  if (dataStart > bytes.length) throw badInput(`${path}: header length ${headerLength} exceeds the file size ${bytes.length}`, { file: path });
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw badInput(`${path}: header at byte 8 is not valid UTF-8 JSON (${(error as Error).message})`, { file: path });
  }
  if (!isObject(header)) throw badInput(`${path}: header is not a JSON object`, { file: path });
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') metadata = parseMetadata(info, path);
    else entries.push(parseEntry(name, info, path));
  }
  checkCoverage(entries, bytes.length - dataStart, path);
  return { entries, metadata, dataStart };
}

function parseMetadata(info: unknown, path: string): Record<string, string> {
  if (info === null) return {};
  if (!isObject(info) || !Object.values(info).every((v) => typeof v === 'string')) {
    throw badInput(`${path}: __metadata__ must map strings to strings`, { file: path, field: '__metadata__' });
  }
  return info as Record<string, string>;
}

function parseEntry(name: string, info: unknown, path: string): SafetensorsEntry {
  const where = `${path}: tensor '${name}'`;
  if (!isObject(info)) throw badInput(`${where} is not an object`, { file: path, tensor: name });
  const { dtype, shape, data_offsets: offsets } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw badInput(`${where} has dtype ${JSON.stringify(dtype)}; the format defines ${Object.keys(DTYPE_BYTES).join(', ')}`, { file: path, tensor: name });
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw badInput(`${where} has shape ${JSON.stringify(shape)}; expected non-negative integers`, { file: path, tensor: name });
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
    throw badInput(`${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 <= begin <= end`, { file: path, tensor: name });
  }
  const [begin, end] = offsets as [number, number];
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    throw badInput(`${where}: data_offsets span ${end - begin} bytes but shape [${shape}] of ${dtype} needs ${expected}`, { file: path, tensor: name });
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** The data section must be covered exactly once, in order of offsets (no holes, no overlaps). */
function checkCoverage(entries: SafetensorsEntry[], dataBytes: number, path: string): void {
  let cursor = 0;
  for (const e of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin !== cursor) {
      const what = e.begin < cursor ? 'overlaps the previous tensor' : `leaves a hole of ${e.begin - cursor} bytes before it`;
      throw badInput(`${path}: tensor '${e.name}' starts at data byte ${e.begin} and ${what}`, { file: path, tensor: e.name });
    }
    cursor = e.end;
  }
  if (cursor !== dataBytes) {
    throw badInput(`${path}: tensors cover ${cursor} data bytes but the file holds ${dataBytes} after the header (truncated or trailing bytes)`, { file: path });
  }
}

/** Decodes the float tensors of a safetensors file already in memory (all of them, or `names`). */
export function decodeSafetensors(bytes: Uint8Array, path: string, names?: readonly string[]): { tensors: Record<string, NamedTensor>; dtypes: Record<string, string>; metadata: Record<string, string> } {
  const header = parseSafetensorsHeader(bytes, path);
  const wanted = names ? new Set(names) : undefined;
  const tensors: Record<string, NamedTensor> = {};
  const dtypes: Record<string, string> = {};
  for (const e of header.entries) {
    if (wanted && !wanted.has(e.name)) continue;
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors[e.name] = { data: toFloat32(raw, e.dtype, `${path}: tensor '${e.name}'`), shape: e.shape };
    dtypes[e.name] = e.dtype;
  }
  return { tensors, dtypes, metadata: header.metadata };
}

export async function readSafetensors(path: string): Promise<{ tensors: Record<string, NamedTensor>; metadata: Record<string, string> }> {
  const { tensors, metadata } = decodeSafetensors(await readFile(path), path);
  return { tensors, metadata };
}

/** Little-endian `raw` of `dtype` as float32 (copied, so the result is aligned and owned). */
function toFloat32(raw: Uint8Array, dtype: string, where: string): Float32Array {
  const count = raw.length / DTYPE_BYTES[dtype];
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype === 'F64') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the upper half of a float32: widening is exact.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    throw badInput(`${where} has dtype ${dtype}; readable as float: ${FLOAT_DTYPES.join(', ')}`, { dtype });
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
