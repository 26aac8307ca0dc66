/**
 * Workflow tests with stand-in activities (@temporalio/testing against a real dev server): the
 * DAG's order, failure semantics (resume after a stage fails its attempts, a bad config failing
 * the run at once, a cancel), and the nightly comparison. Seconds each: no stage runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { RunSpec } from '../../schemas/run-spec.js';
import { presetSpec } from '../../lib/spec/resolve-spec.js';
import { workflowsPath } from '../../infra/worker/worker.js';
import { nightlyReproductionWorkflow } from '../../workflows/nightly.js';
import { pipelineWorkflow } from '../../workflows/pipeline.js';
import { TsaeNightlyKey, TsaeStatusKey } from '../../workflows/search-attributes.js';
import { progressQuery, resumeSignal, TASK_QUEUES } from '../../workflows/shared.js';
import { stubActivities, type StubOptions } from './helpers/stub-activities.js';
import { startWorkflowTestServer, type WorkflowTestServer } from '../helpers/temporal-env.js';

let server: WorkflowTestServer;
let env: TestWorkflowEnvironment;

const SMALL: StubOptions = { shards: 3, units: { train: 2, eval: 1 }, tokensPerShard: { train: 1e9, test: 1e9 } };

function smokeSpec(overrides: Record<string, unknown> = {}): RunSpec {
  return presetSpec('smoke', { 'sae.variants': [{ variant: 'standard' }, { variant: 'topk', hyperparameters: { k: 8 } }], 'evaluate.families': ['core', 'temporal'], ...overrides });
}

/** Runs `body` with the workflow worker and a stub activity worker polling. */
async function withWorkers<T>(options: StubOptions, body: (calls: ReturnType<typeof stubActivities>['calls']) => Promise<T>): Promise<T> {
  const stubs = stubActivities(options);
  const workflows = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.workflows, workflowsPath: workflowsPath() });
  const activities = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.cpu, activities: stubs.activities });
  const running = Promise.all([workflows.run(), activities.run()]);
  try {
    return await body(stubs.calls);
  } finally {
    workflows.shutdown();
    activities.shutdown();
    await running;
  }
}

async function start(id: string, spec: RunSpec): Promise<WorkflowHandle<typeof pipelineWorkflow>> {
  return env.client.workflow.start(pipelineWorkflow, { taskQueue: TASK_QUEUES.workflows, workflowId: id, args: [{ spec }] });
}

describe('pipeline workflow with stand-in activities', { timeout: 240_000 }, () => {
  before(async () => {
    server = await startWorkflowTestServer('tsae-wf-');
    env = server.env;
  });

  after(async () => {
    await server?.close();
  });

  test('the DAG runs its stages in dependency order, with readable activity ids', async () => {
    await withWorkers(SMALL, async (calls) => {
      const handle = await start('dag-order', smokeSpec());
      const result = await handle.result();
      const names = calls.map((c) => c.name);
      const first = (name: string) => names.indexOf(name);
      const last = (name: string) => names.lastIndexOf(name);
      assert.equal(names[0], 'initRun');
      assert.ok(first('planCorpus') > Math.max(first('prepareCorpus'), first('initRun')));
      assert.ok(first('tokenizeShard') > first('planCorpus') && first('tokenizeShard') > first('prepareModel'));
      assert.ok(first('planExtraction') > last('tokenizeShard'));
      assert.ok(first('extractShard') > first('planExtraction'));
      assert.ok(first('trainSae') > last('extractShard'));
      assert.ok(first('evaluateSae') > first('trainSae'));
      assert.equal(names.at(-1), 'writeReport');
      assert.equal(names.at(-2), 'spliceSaes', 'one KL / CE splice of all SAEs, after every child, before the report');
      assert.deepEqual((calls.find((c) => c.name === 'spliceSaes')?.input as { saes: { label: string }[] }).saes.map((s) => s.label), ['standard', 'topk']);
      assert.equal(names.filter((n) => n === 'trainSae').length, 2);
      assert.equal(names.filter((n) => n === 'evaluateSae').length, 4);
      assert.equal(names.filter((n) => n === 'tokenizeShard').length, 3, 'the first wave (sized from the plan) covers the 3 shards');
      assert.ok(calls.some((c) => c.id === 'extract train 2/2#1'), `activity ids: ${calls.map((c) => c.id).join(', ')}`);
      assert.deepEqual(result.variants.map((v) => v.label), ['standard', 'topk']);
      const description = await handle.describe();
      assert.equal(description.typedSearchAttributes.get(TsaeStatusKey), 'completed');
      assert.match(String((description.memo as { report?: string }).report), /runs\/dag-order\/report\/index\.html/);
    });
  });

  test('tokenization runs in waves until the token budgets are met, and no further', async () => {
    // The plan promises 10,000 tokens a shard (40 kB); shards yield 3,000: the first wave falls short.
    await withWorkers({ ...SMALL, shards: 50, meanBytes: 40_000, tokensPerShard: { train: 3000, test: 300 } }, async (calls) => {
      const handle = await start('dag-waves', smokeSpec({ 'tokens.train': 20_000, 'tokens.eval': 2048 }));
      await handle.result();
      const tokenized = calls.filter((c) => c.name === 'tokenizeShard').length;
      // 20,000 train tokens at 3,000 a shard: 7 shards, in waves of 4, 2 and 1.
      assert.equal(tokenized, 7, `tokenized ${tokenized} of 50 shards`);
      const waves = (await handle.fetchHistory()).events?.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId?.includes('tokenize-wave')).length;
      assert.equal(waves, 3);
    });
  });

  test('a stage that failed its attempts waits for `tsae resume`, then runs again and the run completes', async () => {
    const stageFailed = () => ApplicationFailure.create({ type: 'STAGE_FAILED', nonRetryable: true, message: 'trainSae failed 3 times' });
    await withWorkers({ ...SMALL, failures: { trainSae: (call) => (call === 1 ? stageFailed() : null) } }, async (calls) => {
      const handle = await start('dag-resume', smokeSpec({ 'sae.variants': [{ variant: 'standard' }] }));
      await waitUntil(async () => (await handle.query(progressQuery)).status === 'awaiting-resume');
      const progress = await handle.query(progressQuery);
      assert.match(progress.awaiting.join('\n'), /train: STAGE_FAILED: trainSae failed 3 times/);
      assert.equal((await handle.describe()).typedSearchAttributes.get(TsaeStatusKey), 'awaiting-resume');
      await handle.signal(resumeSignal);
      const result = await handle.result();
      const train = result.variants[0].stages.find((s) => s.name === 'train')!;
      assert.equal(train.starts, 2);
      assert.deepEqual(calls.filter((c) => c.name === 'trainSae').map((c) => c.id), ['standard train#1', 'standard train#2']);
    });
  });

  test('bad config fails the run at once, naming the field, without waiting for a resume', async () => {
    const badConfig = () => ApplicationFailure.create({ type: 'BAD_CONFIG', nonRetryable: true, message: 'run spec: tokenize.tokenizer does not fit model.source' });
    await withWorkers({ ...SMALL, failures: { tokenizeShard: badConfig } }, async () => {
      const handle = await start('dag-bad-config', smokeSpec());
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(failureChain(error), /BAD_CONFIG: run spec: tokenize\.tokenizer does not fit model\.source/);
        return true;
      });
      assert.equal((await handle.describe()).typedSearchAttributes.get(TsaeStatusKey), 'failed');
    });
  });

  test('a cancelled run ends as cancelled, in its status and search attribute', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await withWorkers({ ...SMALL, gates: { trainSae: gate } }, async (calls) => {
      const handle = await start('dag-cancel', smokeSpec({ 'sae.variants': [{ variant: 'standard' }] }));
      await waitUntil(async () => calls.some((c) => c.name === 'trainSae'));
      await handle.cancel();
      await assert.rejects(handle.result());
      release();
      const description = await handle.describe();
      assert.equal(description.status.name, 'CANCELLED');
      assert.equal(description.typedSearchAttributes.get(TsaeStatusKey), 'cancelled');
    });
  });

  test('the nightly reproduction salts training, passes against its reference, and fails visibly on a regression', async () => {
    const spec = smokeSpec({ 'sae.variants': [{ variant: 'standard' }] });
    await withWorkers(SMALL, async (calls) => {
      const passed = await env.client.workflow.execute(nightlyReproductionWorkflow, { taskQueue: TASK_QUEUES.workflows, workflowId: 'nightly-pass', args: [{ spec, reference: 'smoke' }] });
      assert.equal(passed.pass, true);
      assert.equal((await env.client.workflow.getHandle('nightly-pass').describe()).typedSearchAttributes.get(TsaeNightlyKey), 'pass');
      // The reproduction's pipeline got a cache salt: its training cannot be a cache hit of an earlier night.
      const init = await env.client.workflow.getHandle('nightly-pass--run').fetchHistory();
      const payload = init.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
      assert.match(Buffer.from(payload ?? []).toString('utf8'), /"cacheSalt":"nightly-pass"/);
      assert.ok(calls.some((c) => c.name === 'compareWithReference'));
    });
    const regression = { runId: 'nightly-bad--run', reference: 'smoke', establishedReference: false, pass: false, compared: 10, regressions: [{ metric: 'standard.core.l0', value: 9, reference: 3 }] };
    await withWorkers({ ...SMALL, compareResult: regression }, async () => {
      const handle = await env.client.workflow.start(nightlyReproductionWorkflow, { taskQueue: TASK_QUEUES.workflows, workflowId: 'nightly-bad', args: [{ spec, reference: 'smoke' }] });
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.match(failureChain(error), /REGRESSION: 1 metric\(s\) regressed against reference 'smoke': standard\.core\.l0 9 vs 3/);
        return true;
      });
      const description = await handle.describe();
      assert.equal(description.status.name, 'FAILED');
      assert.equal(description.typedSearchAttributes.get(TsaeNightlyKey), 'regression');
    });
  });
});

/** Every message in an error's cause chain, with failure types. */
function failureChain(error: unknown): string {
  const parts: string[] = [];
  let current = error as { message?: string; type?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 8; depth++) {
    parts.push(`${current.type ? `${current.type}: ` : ''}${current.message ?? ''}`);
    current = current.cause as typeof current;
  }
  return parts.join(' <- ');
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}
