/**
 * Safe deploys (docs/architecture.md, "Deploying workflow changes"): a DAG change goes behind
 * `patched()`. A run that version 1 of the code started, left open mid-way, continues on workers
 * running version 2 and finishes on the old path; new runs take the new path. The same change
 * without `patched()` breaks the open run's replay: the check can fail.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { presetSpec } from '../../lib/spec/resolve-spec.js';
import { TASK_QUEUES } from '../../workflows/shared.js';
import { stubActivities } from './helpers/stub-activities.js';
import { startWorkflowTestServer, type WorkflowTestServer } from '../helpers/temporal-env.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

let server: WorkflowTestServer;
let env: TestWorkflowEnvironment;

before(async () => {
  server = await startWorkflowTestServer('tsae-deploy-');
  env = server.env;
});

after(async () => {
  await server?.close();
});

/** A workflow worker on `version`'s code plus stand-in activities; returns a stop function. */
async function deploy(version: string, gate?: Promise<void>) {
  const stubs = stubActivities({ shards: 1, units: { train: 1, eval: 1 }, tokensPerShard: { train: 1, test: 1 }, gates: gate ? { trainSae: gate } : {} });
  const workflows = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.workflows, workflowsPath: fixture(version) });
  const activities = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.cpu, activities: stubs.activities, shutdownGraceTime: '1 second' });
  const running = Promise.all([workflows.run(), activities.run()]);
  return {
    calls: stubs.calls,
    async stop() {
      workflows.shutdown();
      activities.shutdown();
      await running;
    },
  };
}

test('an open run started by the old code survives a DAG change made behind patched(), and new runs take the new path', { timeout: 180_000 }, async () => {
  const spec = presetSpec('smoke', {});
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // Version 1 starts the run; it is held in its training stage while version 1 is "undeployed".
  const v1 = await deploy('dag-v1', held);
  const open = await env.client.workflow.start('deployDemoWorkflow', { taskQueue: TASK_QUEUES.workflows, workflowId: 'deploy-open', args: [{ runId: 'deploy-open', spec }] });
  const deadline = Date.now() + 60_000;
  while (!v1.calls.some((c) => c.name === 'trainSae') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(v1.calls.some((c) => c.name === 'trainSae'), 'the open run never reached its training stage');
  await v1.stop();
  release();

  // The open run's history so far replays on version 2 (patched) and fails on the unpatched change.
  const partial = await open.fetchHistory();
  await Worker.runReplayHistory({ workflowsPath: fixture('dag-v2-patched') }, partial, 'deploy-open');
  await assert.rejects(Worker.runReplayHistory({ workflowsPath: fixture('dag-v2-unpatched') }, partial, 'deploy-open'), (error: unknown) => {
    assert.ok(error instanceof DeterminismViolationError, String(error));
    return true;
  });

  // Version 2 is deployed: the open run finishes on the old path, a new run takes the new stage.
  const v2 = await deploy('dag-v2-patched');
  try {
    assert.deepEqual(await open.result(), ['init', 'train']);
    const fresh = await env.client.workflow.execute('deployDemoWorkflow', { taskQueue: TASK_QUEUES.workflows, workflowId: 'deploy-new', args: [{ runId: 'deploy-new', spec }] });
    assert.deepEqual(fresh, ['init', 'extra', 'train']);
  } finally {
    await v2.stop();
  }
});
