import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../../../lib/artifacts/store.js';
import { resolveInside } from '../../../lib/artifacts/safe-path.js';
import { TsaeError } from '../../../lib/core/errors.js';

const request = { stage: 'demo', codeVersion: '1', config: { a: 1, b: [2, 3] }, inputs: ['k1'] };

async function freshStore() {
  return new ArtifactStore(await mkdtemp(join(tmpdir(), 'tsae-store-')));
}

test('keys depend on stage, code version, config and inputs, not on key order', async () => {
  const store = await freshStore();
  const key = store.keyFor(request);
  assert.equal(store.keyFor({ ...request, config: { b: [2, 3], a: 1 } }), key);
  assert.notEqual(store.keyFor({ ...request, codeVersion: '2' }), key);
  assert.notEqual(store.keyFor({ ...request, config: { a: 2, b: [2, 3] } }), key);
  assert.notEqual(store.keyFor({ ...request, inputs: ['k2'] }), key);
  assert.notEqual(store.keyFor({ ...request, stage: 'other' }), key);
});

test('produce writes files and a manifest with sizes and sha256; a second call is a cache hit', async () => {
  const store = await freshStore();
  let calls = 0;
  const work = async ({ workDir }: { workDir: string }) => {
    calls += 1;
    await mkdir(join(workDir, 'sub'), { recursive: true });
    await writeFile(join(workDir, 'sub', 'x.txt'), 'hello');
    return { rows: 7 };
  };
  const first = await store.produce(request, work);
  assert.equal(first.cacheHit, false);
  assert.deepEqual(first.manifest.summary, { rows: 7 });
  assert.deepEqual(first.manifest.files, [
    { path: 'sub/x.txt', bytes: 5, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' },
  ]);
  const second = await store.produce(request, work);
  assert.equal(second.cacheHit, true);
  assert.equal(calls, 1);
  assert.deepEqual(await readdir(join(store.dataDir, 'artifacts', 'demo')), [first.ref.key]);
});

test('an interrupted attempt leaves its work folder, and the retry sees resuming=true', async () => {
  const store = await freshStore();
  await assert.rejects(
    store.produce(request, async ({ workDir }) => {
      await writeFile(join(workDir, 'checkpoint.json'), '{"step":3}');
      throw new Error('killed');
    }),
    /killed/,
  );
  const result = await store.produce(request, async ({ workDir, resuming }) => {
    assert.equal(resuming, true);
    return JSON.parse(await readFile(join(workDir, 'checkpoint.json'), 'utf8'));
  });
  assert.deepEqual(result.manifest.summary, { step: 3 });
});

test('a file that no longer matches its manifest is reported as corrupt, naming the file', async () => {
  const store = await freshStore();
  const { ref } = await store.produce(request, async ({ workDir }) => {
    await writeFile(join(workDir, 'data.bin'), 'abc');
    return {};
  });
  await writeFile(join(store.pathOf(ref), 'data.bin'), 'abcd');
  await assert.rejects(store.find('demo', ref.key), (error: unknown) => error instanceof TsaeError && error.code === 'CORRUPT_ARTIFACT' && /data\.bin/.test(error.message));
});

test('a live lock held by another producer: BUSY (retryable) by default, or wait and get the finished artifact', async () => {
  const store = await freshStore();
  let release!: () => void;
  const blocker = store.produce(request, () => new Promise((resolve) => (release = () => resolve({ by: 'first' }))));
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(store.produce(request, async () => ({})), (error: unknown) => error instanceof TsaeError && error.code === 'BUSY' && error.retryable);
  let secondWorked = false;
  const waiter = store.produce(request, async () => ((secondWorked = true), { by: 'second' }), { waitForLock: true });
  await new Promise((r) => setTimeout(r, 200));
  release();
  await blocker;
  const waited = await waiter;
  assert.equal(waited.cacheHit, true);
  assert.deepEqual(waited.manifest.summary, { by: 'first' });
  assert.equal(secondWorked, false);
});

test('resolveInside rejects .. and symlink escapes from the data directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tsae-safe-'));
  const outside = await mkdtemp(join(tmpdir(), 'tsae-outside-'));
  await symlink(outside, join(root, 'link'));
  assert.equal(resolveInside(root, 'artifacts/x'), join(root, 'artifacts/x'));
  assert.throws(() => resolveInside(root, '../etc/passwd'), /must not contain/);
  assert.throws(() => resolveInside(root, '/etc/passwd'), /must be relative/);
  assert.throws(() => resolveInside(root, 'link/file'), /outside the data directory/);
});
