import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../../stages/train/checkpoint.js';
import { appendMetrics, readMetrics, truncateMetrics } from '../../../stages/train/metrics-log.js';

test('checkpoints round-trip, keep only the latest step folder, and detect corruption', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-ckpt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await loadCheckpoint(dir), null);
  await saveCheckpoint(dir, { step: 5, meta: { a: 1 }, tensors: { x: Float32Array.of(1, 2, 3) } });
  await saveCheckpoint(dir, { step: 10, meta: { a: 2 }, tensors: { x: Float32Array.of(4, 5), y: Float32Array.of(6) } });
  const loaded = await loadCheckpoint<{ a: number }>(dir);
  assert.equal(loaded?.step, 10);
  assert.deepEqual(loaded?.meta, { a: 2 });
  assert.deepEqual(loaded?.tensors, { x: Float32Array.of(4, 5), y: Float32Array.of(6) });
  assert.deepEqual((await readdir(join(dir, 'checkpoint'))).sort(), ['latest.json', 'step-00000010']);
  await writeFile(join(dir, 'checkpoint', 'step-00000010', 'tensors.bin'), Buffer.alloc(12));
  await assert.rejects(loadCheckpoint(dir), (e: Error & { code?: string }) => e.code === 'CORRUPT_ARTIFACT' && /checksums/.test(e.message));
});

test('metrics.jsonl is truncated to the checkpoint step and torn lines are dropped', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-metrics-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await appendMetrics(dir, [1, 2, 3, 4].map((step) => ({ step, loss: step / 10 })));
  await appendFile(join(dir, 'metrics.jsonl'), '{"step": 5, "lo');
  await truncateMetrics(dir, 3);
  assert.deepEqual((await readMetrics(dir)).map((l) => l.step), [1, 2, 3]);
});
