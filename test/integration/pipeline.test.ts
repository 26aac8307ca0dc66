/**
 * End-to-end tests against a real Temporal dev server, with workers and the CLI as child
 * processes of the compiled `tsae` binary: the smoke DAG, cache hits on a rerun, a stage that
 * exhausts its retries and waits for `tsae resume`, a worker killed with SIGKILL mid-training,
 * a bad spec, history replay, and the smoke run's report in a browser.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { PipelineResult } from '../../schemas/pipeline.js';
import { workflowsPath } from '../../infra/worker/worker.js';
import { TsaeStatusKey } from '../../workflows/search-attributes.js';
import { collectRunHistories } from '../../infra/temporal/run-histories.js';
import type { ReportMetricsJson } from '../../stages/report/metrics-files.js';
import { assertReportRenders } from '../helpers/report-browser.js';
import { runCli, startTestEnvironment, startWorkerProcess, waitFor, type TestEnvironment, type WorkerProcess } from '../helpers/temporal-env.js';

/** Generous bound for one smoke pipeline on 2 busy cores. */
const RUN_TIMEOUT_MS = 300_000;
/**
 * Each test runs what it needs, so any one of them passes alone or in any order. Tests that only
 * need a smoke run's artifacts (the cache-hit pair, the resume) share this salt: in file order the
 * second finds the first's training and evals done, which keeps the suite short.
 */
const SHARED_SALT = ['--set', 'cacheSalt=shared'];

let env: TestEnvironment;
let worker: WorkerProcess;
let faultsFile: string;

async function resultOf(workflowId: string): Promise<PipelineResult> {
  return (await env.client.workflow.getHandle(workflowId).result()) as PipelineResult;
}

describe('pipeline on a real Temporal dev server', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    env = await startTestEnvironment();
    faultsFile = join(env.dataDir, 'faults.json');
    await writeFile(faultsFile, '{}');
    env.env.TSAE_FAULTS_FILE = faultsFile;
    worker = startWorkerProcess(env.env);
  });

  after(async () => {
    await worker?.kill('SIGTERM');
    await env?.close();
  });

  test('a bad spec exits 2, names each bad field, and starts nothing', async () => {
    const spec = join(env.dataDir, 'bad.yaml');
    await writeFile(spec, 'name: Bad Name\nmodel:\n  source: gemma3-270m\n  layer: -1\ncorpus:\n  source: demo\ntokens:\n  train: 10\n  eval: 10\nsae:\n  dSae: 64\n  variants:\n    - variant: relu\n');
    const workflowIds = async () => {
      const ids: string[] = [];
      for await (const info of env.client.workflow.list()) ids.push(info.workflowId);
      return ids.sort();
    };
    const before = await workflowIds();
    const result = await runCli(['run', spec], env.env);
    assert.equal(result.code, 2, result.stderr);
    for (const field of ['name', 'model.layer', 'sae.variants.0.variant']) assert.match(result.stderr, new RegExp(`bad\\.yaml:\\d+: ${field.replace(/\./g, '\\.')}:`), `missing ${field} in:\n${result.stderr}`);
    assert.deepEqual(await workflowIds(), before, 'the bad spec started a workflow');
  });

  test('the smoke preset runs the whole DAG end to end and its report renders', async () => {
    // Its own salt: the training and evals are computed here even when another test ran the smoke preset first.
    const result = await runCli(['run', '--preset', 'smoke', '--watch', '--id', 'smoke-1', '--set', 'cacheSalt=smoke-1'], env.env, RUN_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /"event":"progress"/);
    const run = await resultOf('smoke-1');
    assert.equal(run.allCacheHits, false);
    assert.deepEqual(run.variants.map((v) => v.label), ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr']);
    for (const prefix of ['init', 'model', 'corpus', 'plan corpus', 'plan extraction', 'standard/train', 'atr/eval:core', 'atr/eval:temporal', 'atr/features', 'report']) {
      assert.ok(run.stages.some((s) => s.name.startsWith(prefix) && s.status === 'done'), `stage ${prefix} missing or not done`);
    }
    // The fan-outs ran as child workflows of the run, tagged with its id, with readable activity ids.
    const { activities } = await collectRunHistories(env.client, 'smoke-1');
    const closed = (type: string) => activities.filter((a) => a.activityType === type && a.closedMs !== null);
    assert.ok(closed('tokenizeShard').length >= 1 && closed('extractShard').length >= 2, 'fan-out activities missing from the run tree');
    const description = await env.client.workflow.getHandle('smoke-1').describe();
    assert.match(String((description.memo as { report?: string }).report), /runs\/smoke-1\/report\/index\.html/);
    const runDir = join(env.dataDir, 'runs', 'smoke-1');
    const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
    assert.deepEqual(Object.keys(metrics), ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr']);
    for (const family of ['core', 'absorption', 'sparse_probing', 'temporal']) assert.ok(metrics.atr[family], `atr ${family} missing`);
    assert.ok(Number.isFinite(metrics.topk.core.eval_result_metrics.reconstruction_quality.explained_variance));
    assert.ok(existsSync(join(runDir, 'spec.yaml')));
    // Table 1 holds the core numbers at their SAEBench paths (looked up here by fixed path, not by
    // the report's own search, which once picked the prose `definitions` and showed nothing).
    const table1 = (JSON.parse(await readFile(join(runDir, 'report', 'metrics.json'), 'utf8')) as ReportMetricsJson).table1;
    const corePaths: Record<string, [string, string]> = {
      explained_variance: ['reconstruction_quality', 'explained_variance'],
      mse: ['reconstruction_quality', 'mse'],
      l0: ['sparsity', 'l0'],
      kl_div_score: ['model_behavior_preservation', 'kl_div_score'],
      ce_loss_score: ['model_performance_preservation', 'ce_loss_score'],
      relative_reconstruction_bias: ['shrinkage', 'relative_reconstruction_bias'],
    };
    for (const [id, [group, field]] of Object.entries(corePaths)) {
      const row = table1.find((r) => r.id === id)!;
      for (const label of Object.keys(metrics)) {
        const expected = metrics[label].core.eval_result_metrics[group][field];
        assert.ok(Number.isFinite(expected), `${label} core ${group}.${field} is a number`);
        assert.equal(row.values[label].value, expected, `Table 1 ${id} / ${label}`);
      }
    }
    if (process.env.TSAE_SKIP_BROWSER_TESTS !== '1') {
      const browser = await assertReportRenders(join(runDir, 'report', 'index.html'), join(runDir, 'report', 'metrics.json'));
      assert.ok(browser.checkedCells > 0 && browser.latent.contexts > 0);
    }
  });

  test('running the same spec again is a cache hit for every stage', async () => {
    // Its own pair of runs. The first computes (or finds what another test computed); the second must compute nothing.
    const first = await runCli(['run', '--preset', 'smoke', '--watch', '--id', 'cache-1', ...SHARED_SALT], env.env, RUN_TIMEOUT_MS);
    assert.equal(first.code, 0, first.stderr);
    const result = await runCli(['run', '--preset', 'smoke', '--watch', '--id', 'cache-2', ...SHARED_SALT], env.env, RUN_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
    const run = await resultOf('cache-2');
    // Bookkeeping (the run record, plans, the report) is redone every run; everything else is cached.
    const compute = run.stages.filter((s) => s.name !== 'report' && s.name !== 'init' && !s.name.startsWith('plan '));
    assert.ok(compute.length > 20, `only ${compute.length} compute stages: ${compute.map((s) => s.name).join(', ')}`);
    assert.deepEqual(compute.filter((s) => s.cacheHit !== true).map((s) => s.name), []);
    assert.equal(run.allCacheHits, true);
  });

  test('a stage that exhausts its retries waits for `tsae resume`, which completes the run', async () => {
    await writeFile(faultsFile, JSON.stringify({ report: 'fail' }));
    // Cleared in `finally` too, so a failure here cannot leave the fault armed for later tests.
    try {
      const started = await runCli(['run', '--preset', 'smoke', '--id', 'smoke-3', ...SHARED_SALT], env.env);
      assert.equal(started.code, 0, started.stderr);
      const status = await waitFor('awaiting-resume', async () => {
        const out = await runCli(['status', 'smoke-3', '--json'], env.env);
        const parsed = JSON.parse(out.stdout);
        return parsed.status === 'awaiting-resume' ? parsed : undefined;
      }, RUN_TIMEOUT_MS, 1_000);
      assert.match(status.awaiting.join('\n'), /report: .*injected fault/);
      const listed = await waitFor('search attribute', async () => {
        const out = await runCli(['list', '--json', '--query', 'TsaeStatus = "awaiting-resume"'], env.env);
        const rows = JSON.parse(out.stdout) as { workflowId: string }[];
        return rows.some((r) => r.workflowId === 'smoke-3') ? rows : undefined;
      }, 30_000, 1_000);
      assert.ok(listed.length >= 1);
    } finally {
      await writeFile(faultsFile, '{}');
    }
    const resumed = await runCli(['resume', 'smoke-3'], env.env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const run = await resultOf('smoke-3');
    const report = run.stages.find((s) => s.name === 'report');
    assert.equal(report?.status, 'done');
    assert.equal(report?.starts, 2);
    const description = await env.client.workflow.getHandle('smoke-3').describe();
    assert.equal(description.typedSearchAttributes.get(TsaeStatusKey), 'completed');
  });

  test('SIGKILL of the worker mid-training: a new worker resumes from the checkpoint, finished steps are not redone', async () => {
    const id = 'smoke-kill';
    const overrides = ['--set', 'seed=7', '--set', 'sae.variants=[{variant: standard}]', '--set', 'sae.dSae=4096', '--set', 'train.batchSize=4096', '--set', 'train.checkpointEvery=10', '--set', 'train.hyperparameters.steps=600', '--set', 'evaluate.families=[core]'];
    const started = await runCli(['run', '--preset', 'smoke', '--id', id, ...overrides], env.env);
    assert.equal(started.code, 0, started.stderr);
    const killedAt = await waitFor('training progress past two checkpoints', async () => {
      const out = JSON.parse((await runCli(['status', id, '--json'], env.env)).stdout);
      const train = out.active.find((a: { activityType: string }) => a.activityType === 'trainSae');
      return train?.progress && train.progress.done >= 25 ? train.progress.done as number : undefined;
    }, 180_000, 300);
    await worker.kill('SIGKILL');
    worker = startWorkerProcess(env.env);
    const run = await resultOf(id);
    const train = run.variants[0].sae.summary as { resumedFromStep: number | null; steps: number };
    assert.equal(train.steps, 600);
    // The last heartbeat seen before the kill said `killedAt` steps were done; checkpoints are every 10 steps.
    const resumed = train.resumedFromStep;
    assert.ok(resumed !== null && resumed >= Math.floor(killedAt / 10) * 10 - 10 && resumed < 600, `resumed from ${resumed}, last progress seen ${killedAt}`);
    const lines = (await readFile(join(env.dataDir, run.variants[0].sae.ref.path, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).step as number);
    assert.equal(new Set(lines).size, lines.length, 'a logged step appears twice: finished work was redone');
  });

  test('a real Schedule runs the nightly reproduction: establishes the reference, passes, then fails visibly on a regression', async () => {
    const created = await runCli(['schedule', 'create', 'smoke', '--preset', 'smoke', '--cron', '0 3 * * *', '--paused'], env.env);
    assert.equal(created.code, 0, created.stderr);
    const listed = JSON.parse((await runCli(['schedule', 'list', '--json'], env.env)).stdout) as { name: string }[];
    assert.deepEqual(listed.map((s) => s.name), ['smoke']);
    const nightlyRuns = async () => {
      const ids: string[] = [];
      for await (const info of env.client.workflow.list({ query: 'WorkflowType = "nightlyReproductionWorkflow"' })) ids.push(info.workflowId);
      return ids;
    };
    const trigger = async (count: number) => {
      assert.equal((await runCli(['schedule', 'trigger', 'smoke'], env.env)).code, 0);
      const ids = await waitFor(`nightly run ${count}`, async () => {
        const found = await nightlyRuns();
        return found.length >= count ? found : undefined;
      }, 60_000, 500);
      const newest = ids.sort().at(-1)!;
      return env.client.workflow.getHandle(newest);
    };
    const first = await (await trigger(1)).result();
    assert.equal(first.establishedReference, true);
    const second = await (await trigger(2)).result();
    assert.equal(second.pass, true);
    assert.ok(second.compared > 100, `compared only ${second.compared} metrics`);
    const referencePath = join(env.dataDir, 'references', 'smoke.json');
    const reference = JSON.parse(await readFile(referencePath, 'utf8'));
    reference.atr.core.eval_result_metrics.sparsity.l0 += 5;
    await writeFile(referencePath, JSON.stringify(reference));
    const third = await trigger(3);
    await assert.rejects(third.result(), (error: Error & { cause?: { type?: string; message?: string } }) => {
      assert.equal(error.cause?.type, 'REGRESSION');
      assert.match(error.cause?.message ?? '', /atr\.core\.eval_result_metrics\.sparsity\.l0/);
      return true;
    });
    assert.equal((await third.describe()).status.name, 'FAILED');
    assert.equal((await runCli(['schedule', 'delete', 'smoke'], env.env)).code, 0);
  });

  test('recorded histories replay against the current workflow code', async () => {
    // Its own run (the pipeline, a variant's child workflow, a fan-out), plus the top-level
    // workflow of every other run this server recorded (the other tests' runs, when they ran before).
    const own = await runCli(['run', '--preset', 'smoke', '--watch', '--id', 'replay-1', '--set', 'sae.variants=[{variant: atr, hyperparameters: {targetL0: 8}}]', '--set', 'evaluate.families=[core, temporal]', ...SHARED_SALT], env.env, RUN_TIMEOUT_MS);
    assert.equal(own.code, 0, own.stderr);
    const ids = new Set(['replay-1', 'replay-1--atr', 'replay-1/extract-eval']);
    const query = 'ExecutionStatus != "Running" AND (WorkflowType = "pipelineWorkflow" OR WorkflowType = "nightlyReproductionWorkflow")';
    for await (const info of env.client.workflow.list({ query })) ids.add(info.workflowId);
    for (const id of ids) {
      const handle = env.client.workflow.getHandle(id);
      const history = await handle.fetchHistory();
      await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, handle.workflowId);
    }
  });
});
