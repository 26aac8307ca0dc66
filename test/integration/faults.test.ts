/**
 * Fault tests (issue 8) on a real dev server: SIGKILL of the worker during extraction, a dev
 * server restart mid-run (SQLite persistence), two workers with one killed, the same spec
 * started twice at once, and a full disk. Each asserts that nothing is lost and that the final
 * artifacts equal those of an uninterrupted run of the same spec (sha256 of every file).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineResult } from '../../schemas/pipeline.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { artifactChecksums } from '../helpers/artifact-checksums.js';
import { runCli, startTestEnvironment, startWorkerProcess, waitFor, type TestEnvironment, type WorkerProcess } from '../helpers/temporal-env.js';

/** A smoke run with enough rows that extraction takes a few seconds (so it can be interrupted). */
const LONG_EXTRACT = ['--set', 'seed=3', '--set', 'tokens.train=200000', '--set', 'extract.rowsPerShard=3000', '--set', 'extract.batchSize=4', '--set', 'sae.variants=[{variant: standard}, {variant: atr, hyperparameters: {targetL0: 8}}]', '--set', 'evaluate.families=[core, temporal]'];
const RUN_TIMEOUT_MS = 300_000;

let env: TestEnvironment;
let workers: WorkerProcess[] = [];
let reference: Record<string, string>;

async function result(id: string): Promise<PipelineResult> {
  return (await env.client.workflow.getHandle(id).result()) as PipelineResult;
}

/**
 * Resolves once an extraction is half-done: a work folder holds a progress file (at least one
 * part written) but the unit is not finished. Polls the file system, which sees this at once
 * (heartbeats reach the server every few seconds, too late for the tiny smoke model).
 */
async function extractionInProgress(dataDir: string): Promise<void> {
  await waitFor('an extraction in progress', async () => {
    const root = join(dataDir, 'artifacts', 'extract');
    const entries = await readdir(root).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => e.endsWith('.work'))) {
      if (existsSync(join(root, entry, 'extract-progress.json'))) return true;
    }
    return undefined;
  }, 120_000, 20);
}

/** True when some extraction artifact was finished by an attempt that resumed an earlier one's parts. */
async function someExtractionResumed(dataDir: string): Promise<boolean> {
  const root = join(dataDir, 'artifacts', 'extract');
  for (const key of await readdir(root)) {
    const manifest = await readFile(join(root, key, 'manifest.json'), 'utf8').catch(() => null);
    if (manifest && (JSON.parse(manifest).summary?.resumedFromRows ?? 0) > 0) return true;
  }
  return false;
}

/** Deletes every artifact (not the model or corpus inputs, which are user folders here). */
async function clearArtifacts(): Promise<void> {
  await rm(join(env.dataDir, 'artifacts'), { recursive: true, force: true });
  await rm(join(env.dataDir, 'cache'), { recursive: true, force: true });
}

async function assertAllArtifactsVerify(): Promise<void> {
  const store = new ArtifactStore(env.dataDir);
  const checksums = await artifactChecksums(env.dataDir);
  const keys = new Set(Object.keys(checksums).map((p) => p.split('/').slice(0, 2).join('/')));
  for (const stageKey of keys) {
    const [stage, key] = stageKey.split('/');
    assert.ok(await store.find(stage, key, 'sha256'), `${stageKey} does not verify`);
  }
}

describe('fault tolerance on a real Temporal dev server', { timeout: 25 * 60_000 }, () => {
  before(async () => {
    env = await startTestEnvironment();
    workers = [startWorkerProcess(env.env)];
    const run = await runCli(['run', '--preset', 'smoke', '--watch', '--id', 'reference', ...LONG_EXTRACT], env.env, RUN_TIMEOUT_MS);
    assert.equal(run.code, 0, run.stderr);
    reference = await artifactChecksums(env.dataDir);
    assert.ok(Object.keys(reference).length > 20);
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await env?.close();
  });

  test('SIGKILL of the worker during extraction: the run completes, artifacts equal the uninterrupted run', async () => {
    await clearArtifacts();
    const started = await runCli(['run', '--preset', 'smoke', '--id', 'kill-extract', ...LONG_EXTRACT], env.env);
    assert.equal(started.code, 0, started.stderr);
    await extractionInProgress(env.dataDir);
    await workers[0].kill('SIGKILL');
    workers = [startWorkerProcess(env.env)];
    await result('kill-extract');
    assert.ok(await someExtractionResumed(env.dataDir), 'no extraction resumed from the parts the killed worker wrote');
    assert.deepEqual(await artifactChecksums(env.dataDir), reference);
    await assertAllArtifactsVerify();
  });

  test('restart of the Temporal dev server mid-run: history persists in SQLite and the run completes', async () => {
    await clearArtifacts();
    const started = await runCli(['run', '--preset', 'smoke', '--id', 'restart-server', ...LONG_EXTRACT], env.env);
    assert.equal(started.code, 0, started.stderr);
    await extractionInProgress(env.dataDir);
    await env.restartServer();
    const run = await result('restart-server');
    assert.equal(run.runId, 'restart-server');
    assert.deepEqual(await artifactChecksums(env.dataDir), reference);
  });

  test('two workers poll the same queues and one is killed: the other finishes the run', async () => {
    await clearArtifacts();
    workers.push(startWorkerProcess(env.env));
    const started = await runCli(['run', '--preset', 'smoke', '--id', 'two-workers', ...LONG_EXTRACT], env.env);
    assert.equal(started.code, 0, started.stderr);
    await extractionInProgress(env.dataDir);
    await workers[0].kill('SIGKILL');
    workers = workers.slice(1);
    await result('two-workers');
    assert.deepEqual(await artifactChecksums(env.dataDir), reference);
  });

  test('the same spec started twice at once: both complete, no artifact is clobbered', async () => {
    await clearArtifacts();
    workers.push(startWorkerProcess(env.env));
    const [a, b] = await Promise.all([
      runCli(['run', '--preset', 'smoke', '--id', 'twice-a', ...LONG_EXTRACT], env.env),
      runCli(['run', '--preset', 'smoke', '--id', 'twice-b', ...LONG_EXTRACT], env.env),
    ]);
    assert.equal(a.code + b.code, 0, a.stderr + b.stderr);
    const [ra, rb] = await Promise.all([result('twice-a'), result('twice-b')]);
    assert.deepEqual(ra.variants.map((v) => v.sae.ref.key), rb.variants.map((v) => v.sae.ref.key));
    assert.deepEqual(await artifactChecksums(env.dataDir), reference);
    await assertAllArtifactsVerify();
  });

  test('a full disk fails the stage with a clear error, keeps earlier artifacts, and the run resumes once space is freed', async (t) => {
    const mountPoint = join(env.dataDir, 'small-disk');
    await mkdir(mountPoint, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1600k', 'tmpfs', mountPoint], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a tmpfs here (needs root); the ENOSPC path is also covered by the unit test of wrapFsError');
      return;
    }
    // Only a worker whose data directory is the small disk may take this run's activities.
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    workers = [];
    const diskEnv = { ...env.env, TSAE_DATA_DIR: mountPoint };
    const diskWorker = startWorkerProcess(diskEnv);
    try {
      const started = await runCli(['run', '--preset', 'smoke', '--id', 'disk-full', '--set', 'sae.variants=[{variant: standard}]', '--set', 'evaluate.families=[core]'], diskEnv);
      assert.equal(started.code, 0, started.stderr);
      const status = await waitFor('awaiting resume on a full disk', async () => {
        const out = JSON.parse((await runCli(['status', 'disk-full', '--json'], diskEnv)).stdout);
        return out.status === 'awaiting-resume' ? out : undefined;
      }, 180_000, 1_000);
      assert.match(status.awaiting.join('\n'), /No space left on device while writing .*small-disk/);
      const before = await artifactChecksums(mountPoint);
      assert.ok(Object.keys(before).length > 0, 'no artifact completed before the disk filled up');
      const store = new ArtifactStore(mountPoint);
      for (const path of new Set(Object.keys(before).map((p) => p.split('/').slice(0, 2).join('/')))) assert.ok(await store.find(path.split('/')[0], path.split('/')[1], 'sha256'));
      execFileSync('mount', ['-o', 'remount,size=256m', mountPoint]);
      assert.equal((await runCli(['resume', 'disk-full'], diskEnv)).code, 0);
      await result('disk-full');
      const afterRun = await artifactChecksums(mountPoint);
      for (const [file, sha] of Object.entries(before)) assert.equal(afterRun[file], sha, `${file} changed`);
    } finally {
      await diskWorker.kill('SIGKILL');
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
      // Leave a worker on the shared data directory for whichever test runs next.
      if (workers.length === 0) workers = [startWorkerProcess(env.env)];
    }
  });
});
