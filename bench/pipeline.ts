/**
 * Pipeline benchmarks: the overhead of running the DAG through Temporal (dev server, workflow
 * worker, an activity worker running one stage at a time in stage processes) against the time
 * the stages themselves took (the sum of every activity's execution time in the run's
 * histories; with one stage at a time nothing overlaps, so the difference is orchestration:
 * scheduling, workflow tasks, process hand-offs), the cost curve from 1x to 4x training tokens,
 * and two activity workers against one. Full mode uses the demo model and corpus with one variant
 * and the core + temporal evals; --quick uses the smoke fixtures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { RunSpec } from '../schemas/run-spec.js';
import { presetSpec } from '../lib/spec/resolve-spec.js';
import { defaultStageContext } from '../lib/core/context.js';
import { silentLogger } from '../lib/core/logger.js';
import { projectPath } from '../lib/core/package-root.js';
import { startLocalTemporal } from '../infra/temporal/dev-server.js';
import { runWorkers } from '../infra/worker/worker.js';
import { collectRunHistories } from '../infra/temporal/run-histories.js';
import { pipelineWorkflow } from '../workflows/pipeline.js';
import { TsaeRunIdKey } from '../workflows/search-attributes.js';
import { WORKFLOW_QUEUE } from '../workflows/shared.js';
import { median, type BenchRecord } from './record.js';
import { ensureDemoModel } from './toolchain.js';

async function benchSpec(quick: boolean, tokenMultiple: number): Promise<RunSpec> {
  const overrides: Record<string, unknown> = {
    'sae.variants': [{ variant: 'standard' }],
    'evaluate.families': ['core', 'temporal'],
  };
  if (quick) return presetSpec('smoke', { ...overrides, 'tokens.train': 8192 * tokenMultiple });
  const { buildDemoCorpus } = await import('../stages/corpus/build-demo.js');
  const modelDir = await ensureDemoModel();
  const corpusDir = join(projectPath('.tsae'), 'corpora', 'demo');
  await buildDemoCorpus({ out: corpusDir }, defaultStageContext());
  return presetSpec('demo', { ...overrides, 'model.source': modelDir, 'corpus.source': corpusDir, 'tokens.train': 51_200 * tokenMultiple, 'train.warmupSteps': 5 });
}

interface TimedRun {
  wallSeconds: number;
  /** Sum of every activity's execution time (started to closed) across the run's workflows. */
  activitySeconds: number;
  /** First start to last close of the tokenize and extract activities. */
  fanOutSeconds: number;
}

async function timeTemporal(spec: RunSpec, workerProcesses = 0): Promise<TimedRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-bench-temporal-'));
  const temporal = await startLocalTemporal({ dbFile: join(dataDir, 'temporal.sqlite') });
  const controller = new AbortController();
  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.target.address, TSAE_DATA_DIR: dataDir, TSAE_TEMPORAL_LOG_LEVEL: 'ERROR' };
  // In-process: the workflow worker plus one activity worker; else separate worker processes.
  const worker = workerProcesses
    ? null
    : runWorkers({ target: temporal.target, dataDir, queues: ['workflows', 'cpu'], device: 'cpu', concurrency: 1, log: silentLogger, signal: controller.signal });
  const children = workerProcesses
    ? [
        spawn(process.execPath, [projectPath('bin', 'tsae.js'), 'worker', '--queue', 'workflows'], { env, stdio: 'ignore' }),
        ...Array.from({ length: workerProcesses }, () => spawn(process.execPath, [projectPath('bin', 'tsae.js'), 'worker', '--queue', 'cpu', '--concurrency', '1'], { env, stdio: 'ignore' })),
      ]
    : [];
  try {
    const started = performance.now();
    const handle = await temporal.client.workflow.start(pipelineWorkflow, { taskQueue: WORKFLOW_QUEUE, workflowId: 'bench', args: [{ spec }], typedSearchAttributes: [{ key: TsaeRunIdKey, value: 'bench' }] });
    await handle.result();
    const wallSeconds = (performance.now() - started) / 1000;
    const { activities } = await collectRunHistories(temporal.client, 'bench');
    const ran = activities.filter((a) => a.startedMs !== null && a.closedMs !== null);
    const activitySeconds = ran.reduce((sum, a) => sum + (a.closedMs! - a.startedMs!), 0) / 1000;
    const fanOut = ran.filter((a) => a.activityType === 'tokenizeShard' || a.activityType === 'extractShard');
    const fanOutSeconds = (Math.max(...fanOut.map((a) => a.closedMs!)) - Math.min(...fanOut.map((a) => a.startedMs!))) / 1000;
    return { wallSeconds, activitySeconds, fanOutSeconds };
  } finally {
    controller.abort();
    await worker;
    children.forEach((c) => c.kill('SIGTERM'));
    await temporal.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runPipelineBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const label = options.quick ? 'smoke fixtures' : 'demo model, 1 variant, core+temporal evals';
  const base = await benchSpec(options.quick, 1);
  const runs: TimedRun[] = [];
  for (let i = 0; i < (options.quick ? 3 : 2); i++) runs.push(await timeTemporal(base));
  const wall = median(runs.map((r) => r.wallSeconds));
  const busy = median(runs.map((r) => r.activitySeconds));
  records.push({ stage: 'pipeline', case: `${label}, 1x tokens, cold cache`, metric: 'wall_s', value: wall, unit: 's', reference: 'sum of the activities\' execution times in the same runs', referenceValue: busy, ratio: busy / wall });
  records.push({ stage: 'pipeline', case: `${label}, 1x tokens, cold cache`, metric: 'temporal_overhead_pct', value: ((wall - busy) / busy) * 100, unit: '%', reference: 'goal', referenceValue: 5, ratio: 5 / Math.max(1e-9, ((wall - busy) / busy) * 100) });
  for (const m of [2, 4]) {
    const run = await timeTemporal(await benchSpec(options.quick, m));
    records.push({ stage: 'pipeline', case: `${label}, ${m}x training tokens`, metric: 'wall_s', value: run.wallSeconds, unit: 's', reference: `${m} x the 1x run (linear)`, referenceValue: m * wall, ratio: (m * wall) / run.wallSeconds });
  }
  const scaleSpec = { ...(await benchSpec(options.quick, options.quick ? 8 : 2)), threads: 1 };
  const one = await timeTemporal(scaleSpec, 1);
  const two = await timeTemporal(scaleSpec, 2);
  records.push({ stage: 'pipeline', case: `${label}: tokenize+extract fan-out, 2 worker processes vs 1 (1 thread each)`, metric: 'fan_out_wall_s', value: two.fanOutSeconds, unit: 's', reference: '1 worker process', referenceValue: one.fanOutSeconds, ratio: one.fanOutSeconds / two.fanOutSeconds });
  return records;
}
