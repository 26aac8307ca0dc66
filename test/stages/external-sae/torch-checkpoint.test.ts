/**
 * The torch checkpoint reader against torch.save itself (fixture from
 * infra/dev/python/make_external_sae_fixtures.py): strided views and storage offsets, every
 * float dtype and integer scalars; and ZIP64 central directories, which torch writes for large files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTorchStateDict } from '../../../stages/external-sae/torch-checkpoint.js';
import { zipEntries } from '../../../stages/external-sae/zip-archive.js';
import { FIXTURES_DIR } from './helpers.js';

test('tensors saved by torch.save: views, offsets, float16/bfloat16/float64, int scalars', () => {
  const dir = join(FIXTURES_DIR, 'torch-checkpoint');
  const path = join(dir, 'views.pt');
  const tensors = readTorchStateDict(readFileSync(path), path);
  const expected = JSON.parse(readFileSync(join(dir, 'views.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    assert.deepEqual(tensors[name].shape, want.shape, `${name} shape`);
    // float32 holds every stored value exactly except float64 ones, which round once.
    assert.deepEqual(Array.from(tensors[name].data), want.values.map(Math.fround), `${name} values`);
  }
  assert.equal(tensors.half.storageType, 'HalfStorage');
  assert.equal(tensors.bfloat.storageType, 'BFloat16Storage');
});

test('ZIP64: sizes and offsets from the extra field and the ZIP64 end records', () => {
  const data = Buffer.from('payload bytes');
  const name = Buffer.from('a/data/0');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(name.length, 26);
  const extra = Buffer.alloc(4 + 24);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(24, 2);
  extra.writeBigUInt64LE(BigInt(data.length), 4); // uncompressed
  extra.writeBigUInt64LE(BigInt(data.length), 12); // compressed
  extra.writeBigUInt64LE(0n, 20); // local header offset
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt32LE(0xffffffff, 20);
  central.writeUInt32LE(0xffffffff, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt16LE(extra.length, 30);
  central.writeUInt32LE(0xffffffff, 42);
  const head = Buffer.concat([local, name, data]);
  const dir = Buffer.concat([central, name, extra]);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(1n, 32);
  record.writeBigUInt64LE(BigInt(dir.length), 40);
  record.writeBigUInt64LE(BigInt(head.length), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(head.length + dir.length), 8);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 16);
  const entries = zipEntries(Buffer.concat([head, dir, record, locator, end]), 'big.pt');
  assert.deepEqual([...entries.keys()], ['a/data/0']);
  assert.equal(entries.get('a/data/0')!.toString(), 'payload bytes');
});
