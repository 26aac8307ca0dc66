/**
 * Stage processes: a stage runs in its own process, so a crash of that process (native code, the
 * out-of-memory killer) fails only its job, a cancellation kills it, and the pool keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../../../lib/artifacts/store.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { silentLogger } from '../../../lib/core/logger.js';
import { presetSpec } from '../../../lib/spec/resolve-spec.js';
import { storeSpec } from '../../../lib/stage/spec-ref.js';
import { StagePool } from '../../../infra/worker/stage-pool.js';

test('a killed stage process fails only its job (STAGE_CRASHED); a cancel kills the process; the pool keeps serving', { timeout: 180_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-pool-'));
  const pool = new StagePool({ dataDir, device: 'cpu', logLevel: 'error', log: silentLogger, size: 1 });
  try {
    const spec = await storeSpec(new ArtifactStore(dataDir), presetSpec('demo', {}));
    const job = (name: string) => ({ activity: 'prepareCorpus', input: { spec }, work: { workDir: join(dataDir, name), resuming: false } });
    const progressed = () => {
      let seen!: () => void;
      const first = new Promise<void>((resolve) => (seen = resolve));
      return { first, onProgress: () => seen() };
    };

    // A crash: the process running the job dies mid-way.
    const crash = progressed();
    const crashed = pool.run(job('crash'), { onProgress: crash.onProgress, signal: new AbortController().signal });
    await crash.first;
    const [pid] = pool.busyPids();
    process.kill(pid, 'SIGKILL');
    await assert.rejects(crashed, (error: unknown) => {
      assert.ok(error instanceof TsaeError && error.code === 'STAGE_CRASHED', String(error));
      assert.match((error as Error).message, /signal SIGKILL/);
      return true;
    });

    // A cancel: the job's process is killed and the job rejects with the cancellation's reason.
    const cancel = progressed();
    const controller = new AbortController();
    const cancelled = pool.run(job('cancel'), { onProgress: cancel.onProgress, signal: controller.signal });
    await cancel.first;
    const [cancelledPid] = pool.busyPids();
    controller.abort(new Error('cancelled by the test'));
    await assert.rejects(cancelled, /cancelled by the test/);
    assert.throws(() => process.kill(cancelledPid, 0), 'the cancelled stage process is gone');

    // The pool still runs jobs to completion.
    const summary = (await pool.run(job('ok'), { onProgress: () => {}, signal: new AbortController().signal })) as { corpusPath: string };
    assert.equal(summary.corpusPath, join(dataDir, 'ok'));
  } finally {
    await pool.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
