import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentKey, ContentMemo, diskMemo } from '../../../lib/core/memo.js';

test('contentKey depends on every byte, the types and the boundaries of its parts', () => {
  const a = Float32Array.of(1, 2, 3);
  assert.equal(contentKey(a, 'x'), contentKey(Float32Array.of(1, 2, 3), 'x'));
  assert.notEqual(contentKey(a), contentKey(Float32Array.of(1, 2, 3.0000002)));
  assert.notEqual(contentKey(a), contentKey(new Int32Array(a.buffer)), 'same bytes, another type');
  assert.notEqual(contentKey([1, 2], [3]), contentKey([1], [2, 3]));
  assert.notEqual(contentKey(a.subarray(1)), contentKey(a), 'views hash their own bytes');
});

test('ContentMemo computes once per key and evicts the oldest entry beyond its capacity', () => {
  const memo = new ContentMemo<number>(2);
  let calls = 0;
  const get = (key: string) => memo.getOrCompute(key, () => ++calls);
  assert.equal(get('a'), 1);
  assert.equal(get('a'), 1);
  assert.equal(get('b'), 2);
  assert.equal(get('c'), 3);
  assert.equal(calls, 3);
  assert.equal(get('b'), 2, 'still held');
  assert.equal(get('a'), 4, 'evicted, computed again');
});

test('diskMemo computes once, then reads the file; a corrupt file is recomputed; no folder means no memo', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-memo-'));
  try {
    let calls = 0;
    const codec = { encode: (v: Float64Array) => Array.from(v), decode: (j: unknown) => Float64Array.from(j as number[]) };
    const compute = () => {
      calls++;
      return Float64Array.from([0.1, 1 / 3, -2e-300]);
    };
    const key = contentKey('k', 1);
    const first = await diskMemo(dir, key, compute, codec);
    const second = await diskMemo(dir, key, compute, codec);
    assert.equal(calls, 1);
    assert.deepEqual(second, first, 'float64 values survive the JSON round trip exactly');
    await writeFile(join(dir, `${key}.json`), '{"torn');
    assert.deepEqual(await diskMemo(dir, key, compute, codec), first);
    assert.equal(calls, 2);
    await diskMemo(undefined, key, compute, codec);
    assert.equal(calls, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
