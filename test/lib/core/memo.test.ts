import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentKey, ContentMemo } from '../../../lib/core/memo.js';

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
