/**
 * safetensors writer and reader: non-ASCII metadata keeps the data 8-byte aligned and is read by
 * the reference loader (Python `safetensors`); the reader widens F16/BF16/F64 to float32 exactly
 * and refuses malformed files with the file and tensor named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsaeError } from '../../../lib/core/errors.js';
import { setupPython } from '../../helpers/setup-python.js';
import { decodeSafetensors, readSafetensors, writeSafetensors } from '../../../stages/train/safetensors.js';

const METADATA = { format: 'pt', model: 'Gemma 3 – 270M', note: 'naïve café, 日本語, emoji 😀' };
const TENSORS = {
  W_dec: { data: Float32Array.from({ length: 12 }, (_, i) => i * 0.25 - 1.5), shape: [3, 4] },
  b_dec: { data: Float32Array.from([0.1, -0.2, 0.3, 1e-8]), shape: [4] },
};

test('non-ASCII metadata: header length counts bytes, data stays 8-byte aligned, we read it back', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'st-')), 'x.safetensors');
  await writeSafetensors(path, TENSORS, METADATA);
  const bytes = await readFile(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0, 'data section must start 8-byte aligned');
  assert.deepEqual(JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')).__metadata__, METADATA);
  const back = await readSafetensors(path);
  assert.deepEqual(back.metadata, METADATA);
  for (const [name, t] of Object.entries(TENSORS)) {
    assert.deepEqual(back.tensors[name].shape, t.shape);
    assert.deepEqual(back.tensors[name].data, t.data);
  }
});

test('the reference loader (Python safetensors) reads a file with non-ASCII metadata', async () => {
  const python = setupPython('safetensors.numpy');
  const path = join(await mkdtemp(join(tmpdir(), 'st-')), 'x.safetensors');
  await writeSafetensors(path, TENSORS, METADATA);
  const script = [
    'import json, sys',
    'from safetensors import safe_open',
    'with safe_open(sys.argv[1], framework="numpy") as f:',
    '    out = {"metadata": f.metadata(), "tensors": {k: {"shape": list(f.get_tensor(k).shape), "data": f.get_tensor(k).astype("float64").ravel().tolist()} for k in f.keys()}}',
    'print(json.dumps(out))',
  ].join('\n');
  const run = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.deepEqual(out.metadata, METADATA);
  for (const [name, tensor] of Object.entries(TENSORS)) {
    assert.deepEqual(out.tensors[name].shape, tensor.shape);
    assert.deepEqual(out.tensors[name].data, Array.from(tensor.data));
  }
});

/** A file from a header object and raw data bytes, padded like the reference writer. */
function fileOf(header: unknown, data: Uint8Array, headerLength?: bigint): Buffer {
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

test('F16, BF16 and F64 tensors widen to float32 with their exact values', () => {
  // Bit patterns with known values: f16 0x3C00 = 1, 0xC100 = -2.5, 0x0001 = 2^-24 (subnormal), 0x7BFF = 65504.
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc100, 0x0001, 0x7bff]).buffer);
  // bf16 0x3FC0 = 1.5, 0xC2F7 = -123.5, 0x0000 = 0, 0x3E80 = 0.25.
  const bf16 = new Uint8Array(new Uint16Array([0x3fc0, 0xc2f7, 0x0000, 0x3e80]).buffer);
  const f64 = new Uint8Array(new Float64Array([0.1, -3]).buffer);
  const header = {
    a: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [4], data_offsets: [8, 16] },
    c: { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
  };
  const { tensors, dtypes } = decodeSafetensors(fileOf(header, Buffer.concat([f16, bf16, f64])), 'mem.safetensors');
  assert.deepEqual(Array.from(tensors.a.data), [1, -2.5, 2 ** -24, 65504]);
  assert.deepEqual(tensors.a.shape, [2, 2]);
  assert.deepEqual(Array.from(tensors.b.data), [1.5, -123.5, 0, 0.25]);
  assert.deepEqual(Array.from(tensors.c.data), [Math.fround(0.1), -3]);
  assert.deepEqual(dtypes, { a: 'F16', b: 'BF16', c: 'F64' });
});

const GOOD = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
const CASES: [string, () => Buffer, RegExp][] = [
  ['too short', () => Buffer.alloc(5), /bad\.safetensors: too short for a safetensors file \(5 bytes\)/],
  ['header past the end', () => fileOf(GOOD, new Uint8Array(8), 4096n), /bad\.safetensors: header length 4096 exceeds the file size/],
  ['header over 100 MB', () => fileOf(GOOD, new Uint8Array(8), 200_000_000n), /exceeds the format's limit of 100000000 bytes/],
  ['not JSON', () => Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"t": nope'.padEnd(16))]), /header at byte 8 is not valid UTF-8 JSON/],
  ['a JSON array', () => fileOf([1, 2], new Uint8Array(0)), /header is not a JSON object/],
  ['unknown dtype', () => fileOf({ t: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 't' has dtype "F33"; the format defines/],
  ['integer dtype', () => fileOf({ k: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor 'k' has dtype I32; readable as float: F32, F16, BF16, F64/],
  ['bad shape', () => fileOf({ t: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 't' has shape \[-2\]/],
  ['offsets do not match the shape', () => fileOf({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 't': data_offsets span 8 bytes but shape \[3\] of F32 needs 12/],
  ['reversed offsets', () => fileOf({ t: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, new Uint8Array(8)), /tensor 't' has data_offsets \[8,0\]/],
  ['a hole', () => fileOf({ t: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)), /tensor 't' starts at data byte 4 and leaves a hole of 4 bytes/],
  ['overlap', () => fileOf({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, u: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /tensor 'u' starts at data byte 4 and overlaps the previous tensor/],
  ['truncated data', () => fileOf(GOOD, new Uint8Array(6)), /tensors cover 8 data bytes but the file holds 6 after the header/],
  ['trailing bytes', () => fileOf(GOOD, new Uint8Array(12)), /tensors cover 8 data bytes but the file holds 12/],
  ['non-string metadata', () => fileOf({ __metadata__: { n: 3 }, ...GOOD }, new Uint8Array(8)), /__metadata__ must map strings to strings/],
];

for (const [label, make, message] of CASES) {
  test(`reader refuses ${label}, naming the file`, async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'st-')), 'bad.safetensors');
    await writeFile(path, make());
    await assert.rejects(readSafetensors(path), (error: unknown) => {
      assert.ok(error instanceof TsaeError && error.code === 'BAD_INPUT', String(error));
      assert.match(error.message, message);
      assert.ok(error.message.includes(path), error.message);
      return true;
    });
  });
}
