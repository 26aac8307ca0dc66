import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectPath } from '../../../lib/core/package-root.js';
import { setupPython } from '../../helpers/setup-python.js';
import { readActivationShard, writeActivationShard, type ActivationShardData } from '../../../stages/extract/activation-shard-io.js';

const run = promisify(execFile);

function sampleShard(dtype: 'float16' | 'float32'): ActivationShardData {
  const count = 37;
  const dModel = 5;
  const values = dtype === 'float16' ? new Uint16Array(count * dModel) : new Float32Array(count * dModel);
  for (let i = 0; i < values.length; i++) values[i] = dtype === 'float16' ? (0x3c00 + i * 7) & 0x7bff : Math.sin(i) * 3;
  return {
    dModel,
    dtype,
    count,
    values,
    tokenIds: Int32Array.from({ length: count }, (_, i) => (i * 31) % 1000),
    rowIds: Int32Array.from({ length: count }, (_, i) => Math.floor(i / 10)),
    positions: Int32Array.from({ length: count }, (_, i) => i % 10),
    docIndex: Int32Array.from({ length: count }, (_, i) => (i % 10 >= 6 ? 1 : 0)),
    isSpecial: Uint8Array.from({ length: count }, (_, i) => (i % 10 === 0 ? 1 : 0)),
    sourceSets: Array.from({ length: count }, (_, i) => (i % 3 ? 'Pile-CC' : 'Github')),
    docIds: Array.from({ length: count }, (_, i) => `doc-${Math.floor(i / 10)}-${i % 10 >= 6 ? 1 : 0}`),
  };
}

for (const dtype of ['float16', 'float32'] as const) {
  test(`${dtype} shard round-trips exactly and zero-copy`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsae-shard-'));
    try {
      const shard = sampleShard(dtype);
      await writeActivationShard(join(dir, 's.arrow'), shard);
      const back = await readActivationShard(join(dir, 's.arrow'));
      assert.equal(back.dtype, dtype);
      assert.equal(back.values.constructor, shard.values.constructor);
      assert.deepEqual(back, shard);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('pyarrow reads the shards with identical values', async () => {
  const python = setupPython('pyarrow');
  const dir = await mkdtemp(join(tmpdir(), 'tsae-shard-'));
  try {
    for (const dtype of ['float16', 'float32'] as const) {
      const shard = sampleShard(dtype);
      const path = join(dir, `${dtype}.arrow`);
      await writeActivationShard(path, shard);
      const { stdout } = await run(python, [projectPath('test', 'stages', 'extract', 'read_shard_pyarrow.py'), path]);
      const seen = JSON.parse(stdout);
      assert.equal(seen.rows, shard.count);
      assert.equal(seen.activationDtype, dtype === 'float16' ? 'float16' : 'float32');
      assert.match(seen.schema.activation, new RegExp(`fixed_size_list<item: (halffloat|float|${dtype === 'float16' ? 'half' : 'float'})`));
      const raw = Buffer.from(shard.values.buffer, shard.values.byteOffset, shard.values.byteLength);
      assert.equal(seen.activationSha256, createHash('sha256').update(raw).digest('hex'));
      assert.deepEqual(seen.token_id, [...shard.tokenIds]);
      assert.deepEqual(seen.row_id, [...shard.rowIds]);
      assert.deepEqual(seen.position, [...shard.positions]);
      assert.deepEqual(seen.doc_index, [...shard.docIndex]);
      assert.deepEqual(seen.is_special, [...shard.isSpecial]);
      assert.deepEqual(seen.doc_id, shard.docIds);
      assert.deepEqual(seen.source_set, shard.sourceSets);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
