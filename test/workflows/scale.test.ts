/**
 * Fan-out at scale on a real dev server: a pipeline whose plans hold 5,000 corpus shards and
 * 5,500 extraction units, run with instant stand-in activities. Every workflow of the run's tree
 * must stay far under Temporal's limits (51,200 events and 50 MB per history, warnings from
 * 10,240 events and 10 MB; 2 MB per payload); the figures are printed. Also prints the sizes of
 * the `paper` preset's real plan.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { presetSpec } from '../../lib/spec/resolve-spec.js';
import { collectRunHistories } from '../../infra/temporal/run-histories.js';
import { workflowsPath } from '../../infra/worker/worker.js';
import { pipelineWorkflow } from '../../workflows/pipeline.js';
import { splitRange, tokenizeWaveSize } from '../../workflows/plan.js';
import { TsaeRunIdKey } from '../../workflows/search-attributes.js';
import { TASK_QUEUES } from '../../workflows/shared.js';
import { stubActivities } from './helpers/stub-activities.js';
import { startWorkflowTestServer, type WorkflowTestServer } from '../helpers/temporal-env.js';

/** "Far under" Temporal's limits: a tenth of the hard limits, half the warning thresholds or less. */
const MAX_EVENTS = 5_120;
const MAX_HISTORY_BYTES = 5_000_000;
const MAX_PAYLOAD_BYTES = 200_000;

let server: WorkflowTestServer;
let env: TestWorkflowEnvironment;

before(async () => {
  server = await startWorkflowTestServer('tsae-scale-');
  env = server.env;
});

after(async () => {
  await server?.close();
});

test('a plan of 5,000 units (1,000 corpus shards, 4,000 extraction units) keeps every history and payload far under Temporal limits', { timeout: 900_000 }, async () => {
  const shards = 1_000;
  const units = { train: 3_600, eval: 400 };
  const stubs = stubActivities({ shards, meanBytes: 400, units, tokensPerShard: { train: 250, test: 25 } });
  const workflows = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.workflows, workflowsPath: workflowsPath() });
  const activities = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUES.cpu, activities: stubs.activities, maxConcurrentActivityTaskExecutions: 64 });
  const running = Promise.all([workflows.run(), activities.run()]);
  try {
    // Budgets that need every shard: 1,000 x 250 train tokens.
    const spec = presetSpec('smoke', { 'tokens.train': 250_000, 'tokens.eval': 2048, 'sae.variants': [{ variant: 'standard' }], 'evaluate.families': ['core'], 'temporal.fanOutWindow': 32 });
    const started = Date.now();
    const handle = await env.client.workflow.start(pipelineWorkflow, { taskQueue: TASK_QUEUES.workflows, workflowId: 'scale', args: [{ spec }], typedSearchAttributes: [{ key: TsaeRunIdKey, value: 'scale' }] });
    await handle.result();
    const seconds = (Date.now() - started) / 1000;
    const { histories, activities: spans } = await collectRunHistories(env.client, 'scale');
    const count = (type: string) => spans.filter((a) => a.activityType === type).length;
    assert.equal(count('tokenizeShard'), shards);
    assert.equal(count('extractShard'), units.train + units.eval);
    assert.ok(count('tokenizeShard') + count('extractShard') >= 5_000);
    const largest = (key: 'events' | 'bytes' | 'largestPayloadBytes') => histories.reduce((best, h) => (h[key] > best[key] ? h : best));
    const figures = {
      workflows: histories.length,
      activities: spans.length,
      maxEvents: largest('events').events,
      maxEventsWorkflow: largest('events').workflowId,
      maxHistoryBytes: largest('bytes').bytes,
      maxHistoryWorkflow: largest('bytes').workflowId,
      maxPayloadBytes: largest('largestPayloadBytes').largestPayloadBytes,
      rootEvents: histories.find((h) => h.workflowId === 'scale')!.events,
      seconds,
    };
    console.log(`scale figures: ${JSON.stringify(figures)} (limits: 51,200 events and 50 MB per history, warnings from 10,240 events and 10 MB; 2 MB per payload)`);
    assert.ok(figures.maxEvents < MAX_EVENTS, `a history has ${figures.maxEvents} events (${figures.maxEventsWorkflow})`);
    assert.ok(figures.maxHistoryBytes < MAX_HISTORY_BYTES, `a history has ${figures.maxHistoryBytes} bytes (${figures.maxHistoryWorkflow})`);
    assert.ok(figures.maxPayloadBytes < MAX_PAYLOAD_BYTES, `a payload has ${figures.maxPayloadBytes} bytes`);
  } finally {
    workflows.shutdown();
    activities.shutdown();
    await running;
  }
});

test('the paper preset\'s plan: its sizes', () => {
  const spec = presetSpec('paper', { 'corpus.source': 'test' });
  // The Pile Uncopyrighted: 30 train files of about 14 GB of zstd each; each is one shard, capped at 1M tokens.
  const wave = tokenizeWaveSize({ meanBytes: 14e9, compressedShare: 1 }, { train: 0, test: 0 }, spec);
  const rowsTrain = Math.ceil(spec.tokens.train / spec.tokenize.contextLength);
  const rowsEval = Math.ceil(spec.tokens.eval / spec.tokenize.contextLength);
  const extract = { train: Math.ceil(rowsTrain / spec.extract.rowsPerShard), eval: Math.ceil(rowsEval / spec.extract.rowsPerShard) };
  const leaves = (n: number) => (splitRange(0, n, spec.temporal.fanOutBatch) ?? [{ start: 0, end: n }]).length;
  const figures = { corpusShards: 30, firstTokenizeWave: Math.min(30, wave), extractUnits: extract, fanOutChildren: { train: leaves(extract.train), eval: leaves(extract.eval) } };
  console.log(`paper plan: ${JSON.stringify(figures)}`);
  assert.ok(figures.firstTokenizeWave >= 15 && figures.firstTokenizeWave <= 30);
  assert.deepEqual(extract, { train: 20, eval: 8 });
});
