/**
 * safetensors (huggingface/safetensors format): 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}, __metadata__}, then the raw little-endian data. Only F32 is
 * written and read (what this project exports); other dtypes are rejected with their names.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/core/atomic-fs.js';
import { badInput } from '../../lib/core/errors.js';

export interface NamedTensor {
  data: Float32Array;
  shape: number[];
}

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
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // data starts 8-byte aligned
  const out = Buffer.alloc(8 + Buffer.byteLength(json));
  out.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  out.write(json, 8);
  return out;
}

/** Writes atomically (temporary sibling, fsync, rename), streaming tensor by tensor. */
export async function writeSafetensors(path: string, tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Promise<void> {
  const entries = Object.entries(tensors);
  await writeFileAtomic(path, [encodeHeader(entries, metadata), ...entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
}

export async function readSafetensors(path: string): Promise<{ tensors: Record<string, NamedTensor>; metadata: Record<string, string> }> {
  const bytes = await readFile(path);
  if (bytes.length < 8) throw badInput(`${path}: too short for a safetensors file (${bytes.length} bytes)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) throw badInput(`${path}: header length ${headerLength} exceeds the file size ${bytes.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (error) {
    throw badInput(`${path}: header at byte 8 is not valid JSON (${(error as Error).message})`);
  }
  const base = 8 + headerLength;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as unknown as Record<string, string>;
      continue;
    }
    if (info.dtype !== 'F32') throw badInput(`${path}: tensor '${name}' has dtype ${info.dtype}; supported: F32`);
    const [start, end] = info.data_offsets;
    const copy = new Float32Array((end - start) / 4);
    new Uint8Array(copy.buffer).set(bytes.subarray(base + start, base + end));
    tensors[name] = { data: copy, shape: info.shape };
  }
  return { tensors, metadata };
}
