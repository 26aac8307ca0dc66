/**
 * The activity adapter in a mocked activity context: cache hits, failure classes (bad input at
 * once; real failures counted up to temporal.maxAttempts, then STAGE_FAILED; a worker shutdown
 * handed back without counting), the stall limit, progress in heartbeats, and the data store
 * check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, ActivityCancellationDetails } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SpecRef } from '../../schemas/pipeline.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { TsaeError } from '../../lib/core/errors.js';
import { silentLogger } from '../../lib/core/logger.js';
import { presetSpec } from '../../lib/spec/resolve-spec.js';
import { storeSpec } from '../../lib/stage/spec-ref.js';
import { defineStage, type StageDefinition } from '../../lib/stage/stage-definition.js';
import { stageActivity, type ActivityDeps } from '../../activities/stage-activity.js';

async function setUp(overrides: Record<string, unknown> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-adapter-'));
  const store = new ArtifactStore(dataDir);
  const deps: ActivityDeps = { store, dataDir, device: 'cpu', log: silentLogger, runner: null };
  const spec = await storeSpec(store, presetSpec('smoke', { 'temporal.maxAttempts': 3, ...overrides }));
  return { dataDir, deps, spec, done: () => rm(dataDir, { recursive: true, force: true }) };
}

function stage(run: StageDefinition<{ spec: SpecRef; n: number }, { n: number }>['run'], extra: Partial<StageDefinition> = {}) {
  return defineStage<{ spec: SpecRef; n: number }, { n: number }>({ name: 'demo', module: import.meta.url, resources: 'cpu', cached: true, keyOf: (input) => ({ config: { n: input.n }, inputs: [] }), run, ...extra });
}

/** Runs the activity as attempt `attempt` of stage start `activityId` of workflow `w`. */
function attempt<T>(fn: () => Promise<T>, activityId = 'demo#1', env = new MockActivityEnvironment({ activityId, workflowExecution: { workflowId: 'w', runId: 'r' } } as never)) {
  return { env, result: env.run(fn) };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('the activity succeeded');
}

test('a second call with the same input is a cache hit; the stage ran once', async () => {
  const { deps, spec, done } = await setUp();
  try {
    let runs = 0;
    const activity = stageActivity('demo', stage(async (input) => ((runs += 1), { n: input.n })), deps);
    const first = (await attempt(() => activity({ spec, n: 1 })).result) as { cacheHit: boolean };
    const second = (await attempt(() => activity({ spec, n: 1 })).result) as { cacheHit: boolean; summary: unknown };
    assert.equal(first.cacheHit, false);
    assert.equal(second.cacheHit, true);
    assert.deepEqual(second.summary, { n: 1 });
    assert.equal(runs, 1);
  } finally {
    await done();
  }
});

test('bad input fails at once and is not retryable; real failures count up to maxAttempts, then STAGE_FAILED', async () => {
  const { deps, spec, done } = await setUp();
  try {
    const bad = stageActivity('demo', stage(async () => { throw new TsaeError('BAD_INPUT', 'corpus.jsonl:3: not JSON'); }), deps);
    const badFailure = await failureOf(attempt(() => bad({ spec, n: 1 })).result);
    assert.equal(badFailure.type, 'BAD_INPUT');
    assert.equal(badFailure.nonRetryable, true);
    const broken = stageActivity('demo', stage(async () => { throw new Error('boom'); }), deps);
    const kinds = [];
    for (let i = 0; i < 3; i++) {
      const failure = await failureOf(attempt(() => broken({ spec, n: 2 }), 'broken#1').result);
      kinds.push([failure.type, failure.nonRetryable]);
    }
    assert.deepEqual(kinds, [['INTERNAL', false], ['INTERNAL', false], ['STAGE_FAILED', true]]);
    // A resumed stage start (a new activity id) gets its attempts afresh.
    const afterResume = await failureOf(attempt(() => broken({ spec, n: 2 }), 'broken#2').result);
    assert.equal(afterResume.type, 'INTERNAL');
  } finally {
    await done();
  }
});

test('a worker shutdown hands the work back without counting an attempt', async () => {
  const { deps, spec, done } = await setUp({ 'temporal.maxAttempts': 1 });
  try {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow = stageActivity('demo', stage(async (_input, _deps, _work, ctx) => {
      started();
      await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      return { n: 0 };
    }), deps);
    const { env, result } = attempt(() => slow({ spec, n: 3 }), 'slow#1');
    await running;
    env.cancel('WORKER_SHUTDOWN' as never, new ActivityCancellationDetails({ workerShutdown: true }));
    const failure = await failureOf(result);
    assert.equal(failure.type, 'WORKER_SHUTDOWN');
    assert.equal(failure.nonRetryable, false);
    // With maxAttempts 1, a counted failure now would be STAGE_FAILED: the shutdown was not counted.
    const broken = stageActivity('demo', stage(async () => { throw new Error('boom'); }), deps);
    assert.equal((await failureOf(attempt(() => broken({ spec, n: 3 }), 'slow#1').result)).type, 'STAGE_FAILED');
  } finally {
    await done();
  }
});

test('a stage without progress for its stall limit is stopped: STALLED, naming its last progress', { timeout: 60_000 }, async () => {
  const { deps, spec, done } = await setUp({ 'temporal.stallSeconds': 10 });
  try {
    const stuck = stageActivity('demo', stage(async (_input, _deps, _work, ctx) => {
      ctx.onProgress({ stage: 'demo', item: 'part 3', done: 3, total: 10, unit: 'parts' });
      await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      return { n: 0 };
    }), deps);
    const { env, result } = attempt(() => stuck({ spec, n: 4 }), 'stuck#1');
    const beats: unknown[] = [];
    env.on('heartbeat', (details) => beats.push(details));
    const failure = await failureOf(result);
    assert.equal(failure.type, 'STALLED');
    assert.match(failure.message, /no progress for 1\d s .*last: demo part 3 at 3\/10 parts/);
    assert.ok(beats.some((b) => (b as { progress?: { done?: number } }).progress?.done === 3), 'heartbeats carry the progress');
  } finally {
    await done();
  }
});

test('a worker whose data directory is another store refuses the work, naming both directories', async () => {
  const { deps, spec, done } = await setUp();
  const other = await setUp();
  try {
    const activity = stageActivity('demo', stage(async () => ({ n: 1 })), other.deps);
    const failure = await failureOf(attempt(() => activity({ spec, n: 1 })).result);
    assert.equal(failure.type, 'WRONG_DATA_STORE');
    assert.equal(failure.nonRetryable, false);
    assert.ok(failure.message.includes(other.dataDir) && failure.message.includes(deps.dataDir), failure.message);
  } finally {
    await done();
    await other.done();
  }
});
