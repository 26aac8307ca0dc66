/**
 * Pipeline benchmarks (issue 8): the overhead of running the DAG through Temporal (dev server +
 * worker, one activity at a time) against calling the same stage functions directly, and the
 * cost curve from 1x to 4x training tokens. Full mode uses the demo model and corpus with one
 * variant and the core + temporal evals; --quick uses the smoke fixtures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { PipelineResult } from '../schemas/pipeline.js';
import type { RunSpec } from '../schemas/run-spec.js';
import { presetSpec } from '../lib/spec/resolve-spec.js';
import { defaultStageContext } from '../lib/core/context.js';
import { silentLogger } from '../lib/core/logger.js';
import { projectPath } from '../lib/core/package-root.js';
import { startLocalTemporal } from '../infra/temporal/local-temporal.js';
import { runWorkers } from '../infra/worker/worker.js';
import { TASK_QUEUES, WORKFLOW_TASK_TIMEOUT } from '../workflows/shared.js';
import { runPipelineDirect } from './direct-pipeline.js';
import { median, type BenchRecord } from './record.js';

async function benchSpec(quick: boolean, tokenMultiple: number): Promise<RunSpec> {
  const overrides: Record<string, unknown> = {
    'sae.variants': [{ variant: 'standard' }],
    'evaluate.families': ['core', 'temporal'],
  };
  if (quick) return presetSpec('smoke', { ...overrides, 'tokens.train': 8192 * tokenMultiple });
  const { prepareModel } = await import('../stages/model/prepare-model.js');
  const { buildDemoCorpus } = await import('../stages/corpus/build-demo.js');
  const cache = projectPath('.tsae');
  const model = await prepareModel({ source: 'gemma3-270m', dataDir: cache }, defaultStageContext());
  const corpusDir = join(cache, 'corpora', 'demo');
  await buildDemoCorpus({ out: corpusDir }, defaultStageContext());
  return presetSpec('demo', { ...overrides, 'model.source': model.dir, 'corpus.source': corpusDir, 'tokens.train': 51_200 * tokenMultiple, 'train.warmupSteps': 5 });
}

async function timeDirect(spec: RunSpec): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-bench-direct-'));
  const started = performance.now();
  await runPipelineDirect(spec, dataDir, 'bench-direct');
  const seconds = (performance.now() - started) / 1000;
  await rm(dataDir, { recursive: true, force: true });
  return seconds;
}

async function timeTemporal(spec: RunSpec): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-bench-temporal-'));
  const temporal = await startLocalTemporal(dataDir);
  const controller = new AbortController();
  const worker = runWorkers({ target: temporal.target, dataDir, queues: ['cpu'], device: 'cpu', concurrency: 1, log: silentLogger, signal: controller.signal });
  try {
    const started = performance.now();
    const handle = await temporal.client.workflow.start('pipelineWorkflow', { taskQueue: TASK_QUEUES.cpu, workflowId: 'bench', workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT, args: [{ spec }] });
    await handle.result();
    return (performance.now() - started) / 1000;
  } finally {
    controller.abort();
    await worker;
    await temporal.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runPipelineBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const label = options.quick ? 'smoke fixtures' : 'demo model, 1 variant, core+temporal evals';
  const base = await benchSpec(options.quick, 1);
  // Alternate the two ways so machine noise hits both alike; medians of the repeats.
  const direct: number[] = [];
  const temporal: number[] = [];
  const repeats = options.quick ? 3 : 2;
  for (let i = 0; i < repeats; i++) {
    direct.push(await timeDirect(base));
    temporal.push(await timeTemporal(base));
  }
  const d = median(direct);
  const t = median(temporal);
  records.push({ stage: 'pipeline', case: `${label}, 1x tokens, cold cache`, metric: 'wall_s', value: t, unit: 's', reference: 'same stages called directly (no Temporal)', referenceValue: d, ratio: d / t });
  records.push({ stage: 'pipeline', case: `${label}, 1x tokens, cold cache`, metric: 'temporal_overhead_pct', value: ((t - d) / d) * 100, unit: '%', reference: 'goal', referenceValue: 5, ratio: null });
  const curve: Record<number, number> = { 1: d };
  for (const m of [2, 4]) curve[m] = await timeDirect(await benchSpec(options.quick, m));
  for (const m of [2, 4]) {
    records.push({ stage: 'pipeline', case: `${label}, ${m}x training tokens`, metric: 'wall_s', value: curve[m], unit: 's', reference: `${m} x the 1x run (linear)`, referenceValue: m * d, ratio: (m * d) / curve[m] });
  }
  records.push(...(await scaleOutRecords(options.quick, label)));
  return records;
}

/**
 * Scale-out: wall time of the fan-out stages (tokenize + extract, from the first start to the
 * last finish) with one worker against two worker processes, each activity on one thread.
 */
async function scaleOutRecords(quick: boolean, label: string): Promise<BenchRecord[]> {
  const spec = await benchSpec(quick, quick ? 8 : 2);
  const specOneThread = { ...spec, threads: 1 };
  const one = await fanOutSeconds(specOneThread, 1);
  const two = await fanOutSeconds(specOneThread, 2);
  return [
    { stage: 'pipeline', case: `${label}: tokenize+extract fan-out, 2 workers vs 1 (1 thread each)`, metric: 'fan_out_wall_s', value: two, unit: 's', reference: '1 worker', referenceValue: one, ratio: one / two },
  ];
}

async function fanOutSeconds(spec: RunSpec, workers: number): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-bench-scale-'));
  const temporal = await startLocalTemporal(dataDir);
  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.target.address, TSAE_DATA_DIR: dataDir, TSAE_TEMPORAL_LOG_LEVEL: 'ERROR' };
  const children = Array.from({ length: workers }, () => spawn(process.execPath, [projectPath('bin', 'tsae.js'), 'worker', '--concurrency', '1'], { env, stdio: 'ignore' }));
  try {
    const handle = await temporal.client.workflow.start('pipelineWorkflow', { taskQueue: TASK_QUEUES.cpu, workflowId: 'bench-scale', workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT, args: [{ spec }] });
    const result = (await handle.result()) as PipelineResult;
    const fanOut = result.stages.filter((s) => /^(tokenize|extract):/.test(s.name) && s.startedAt && s.finishedAt);
    const start = Math.min(...fanOut.map((s) => Date.parse(s.startedAt!)));
    const end = Math.max(...fanOut.map((s) => Date.parse(s.finishedAt!)));
    return (end - start) / 1000;
  } finally {
    children.forEach((c) => c.kill('SIGTERM'));
    await temporal.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
