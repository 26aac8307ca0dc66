import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withResidualCache } from '../../../stages/model/residual-cache.js';
import type { Splicer } from '../../../stages/model/splice.js';

/** A narrow fake: residual = token id + position / 10 in every dimension, counting model calls. */
function countingSplicer(dModel: number): Splicer & { calls: number } {
  const fake = {
    dModel,
    vocabSize: 100,
    calls: 0,
    async residuals(ids: ArrayLike<number>, batch: number, seqLen: number) {
      fake.calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const out = new Float32Array(batch * seqLen * dModel);
      for (let t = 0; t < batch * seqLen; t++) out.fill(ids[t] + (t % seqLen) / 10, t * dModel, (t + 1) * dModel);
      return out;
    },
    spliceLosses: () => Promise.reject(new Error('not used')),
    dispose: () => Promise.resolve(),
  };
  return fake;
}

test('residual cache: concurrent requests share one model run, later ones read the disk, each caller owns its array', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-residual-cache-'));
  try {
    const inner = countingSplicer(4);
    const cached = withResidualCache(inner, dir);
    const ids = [5, 6, 7, 8, 9, 10];
    const [a, b] = await Promise.all([cached.residuals(ids, 2, 3), cached.residuals(ids, 2, 3)]);
    assert.equal(inner.calls, 1, 'two concurrent evals ran the model once');
    assert.deepEqual(a, b);
    a[0] = -1;
    assert.notEqual(b[0], -1, 'the arrays are not shared');
    const again = await withResidualCache(inner, dir).residuals(ids, 2, 3);
    assert.equal(inner.calls, 1, 'a later request reads the file');
    assert.deepEqual(Array.from(again.subarray(0, 4)), [5, 5, 5, 5]);
    assert.equal(again[2 * 4], Math.fround(7.2), "token 7 at position 2");
    await cached.residuals([1, 2, 3, 4, 5, 6], 2, 3);
    assert.equal(inner.calls, 2, 'other ids run the model');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
