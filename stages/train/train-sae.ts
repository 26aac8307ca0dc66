/**
 * trainSae: trains one SAE variant on activation shards and exports it.
 *
 * JavaScript only orchestrates: batches are copied raw into a [M, batch, d] buffer, one
 * session.run executes M optimizer steps (step-graph.ts), and between runs the trainer logs
 * metrics, reports progress, resamples (atr) and checkpoints. Run boundaries are a pure function
 * of the step number (multiples of stepsPerRun, checkpointEvery, resampleEvery), so a run resumed
 * from a checkpoint executes exactly the same runs as an uninterrupted one (byte-identical on CPU).
 * Counts given as fractions of the run are resolved once here (resolve-config.ts). When steps x
 * batchSize exceeds the data, the stream starts further epochs, each in a new seeded order.
 *
 * Writes into outDir: checkpoint/, metrics.jsonl, sae.safetensors (+ sae_weights.safetensors),
 * cfg.json, sae.onnx.
 */
import { mkdir } from 'node:fs/promises';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { TrainConfig } from '../../schemas/train.js';
import type { Device } from '../../lib/onnx/backend.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { badInput } from '../../lib/core/errors.js';
import { BatchStream, longestWindow, tablesAsData, type BatchBuffers, type TrainData } from './batches.js';
import { exportSae } from './export-sae.js';
import { observeResampling, observeStep, type TrainMechanisms } from './mechanisms.js';
import { appendMetrics, readMetrics, truncateMetrics, type MetricsLine } from './metrics-log.js';
import { resampleLatents, resampleScores, selectForResampling } from './resample.js';
import { learningRate, scheduleTable } from './schedule.js';
import { StepRunner, type RunResult } from './step-runner.js';
import { resolveTrainConfig } from './resolve-config.js';
import { bufferBytes, initialRunState, loadRunState, saveRunState, type RunState } from './train-state.js';

export interface TrainInput {
  /** Activation tables, or a loader that yields them shard by shard (bounded memory). */
  data: TrainData | ActivationTable[];
  config: TrainConfig;
  seed: number;
  device: Device;
  /** onnxruntime intra-op threads (0: all cores). */
  threads?: number;
}

export interface TrainSummary {
  variant: TrainConfig['variant'];
  architecture: string;
  steps: number;
  /** Tokens in the losses (special and padding positions excluded). */
  tokens: number;
  dIn: number;
  dSae: number;
  dataDtype: 'float16' | 'float32';
  device: Device;
  normScale: number;
  resumedFromStep: number | null;
  resampledLatents: number;
  /** What each mechanism did (sparsity control, dead latents, AuxK, threshold, resampling, alpha_t, outliers). */
  mechanisms: TrainMechanisms;
  finalMetrics: Record<string, number>;
  tokensPerSecond: number;
  durationsMs: { total: number; training: number; export: number };
}

interface Setup {
  cfg: TrainConfig;
  data: TrainData;
  dIn: number;
  dtype: 'float16' | 'float32';
  mode: 'token' | 'sequence';
  seqLen: number;
}

async function describeData(input: TrainInput): Promise<Setup> {
  const source = Array.isArray(input.data) ? tablesAsData(input.data) : input.data;
  if (source.shardCount < 1) throw badInput('trainSae needs at least one activation shard; got none');
  const first = await source.loadShard(0);
  // Shard 0 was just read for its shape: the stream's first load of it reuses that copy.
  let cached: ActivationTable | null = first;
  const data: TrainData = {
    shardCount: source.shardCount,
    loadShard: async (i) => {
      const table = i === 0 && cached ? cached : await source.loadShard(i);
      cached = null;
      return table;
    },
  };
  const cfg = resolveTrainConfig(input.config);
  const mode = cfg.variant === 'atr' ? 'sequence' : 'token';
  return { cfg, data, dIn: first.dModel, dtype: first.dtype, mode, seqLen: cfg.seqLen ?? longestWindow(first) };
}

/** Steps in the next run: up to the next multiple of stepsPerRun, checkpointEvery, resampleEvery, or the end. */
export function nextRunLength(config: TrainConfig, step: number): number {
  const cfg = resolveTrainConfig(config);
  const next = (k: number) => (Math.floor(step / k) + 1) * k;
  const bounds = [cfg.steps, next(cfg.stepsPerRun), next(cfg.checkpointEvery)];
  if (cfg.variant === 'atr' && cfg.resampleEvery > 0) bounds.push(next(cfg.resampleEvery));
  return Math.min(...bounds) - step;
}

export async function trainSae(input: TrainInput, outDir: string, ctx: StageContext): Promise<TrainSummary> {
  const started = performance.now();
  await mkdir(outDir, { recursive: true });
  const setup = await describeData(input);
  const { cfg, dIn, dtype } = setup;
  const resumed = await loadRunState(outDir, cfg, input.seed, dIn, dtype);
  const run = resumed ?? (await initialRunState(cfg, input.seed, setup.data, dIn, dtype));
  await truncateMetrics(outDir, run.state.step);
  ctx.log.info('train start', { variant: cfg.variant, dIn, dSae: cfg.dSae, dtype, resumedFromStep: resumed ? run.state.step : null, steps: cfg.steps });
  const runner = await StepRunner.create(cfg, { rows: cfg.batchSize, dIn, dSae: cfg.dSae }, dtype, input.device, input.threads ?? 0);
  let last: Record<string, number> = {};
  const trainStart = performance.now();
  const stepsAtStart = run.state.step;
  try {
    last = await trainLoop(setup, input.seed, run, runner, outDir, ctx);
  } finally {
    await runner.dispose();
  }
  if (Object.keys(last).length === 0) last = (await readMetrics(outDir)).at(-1) ?? {};
  const trainingMs = performance.now() - trainStart;
  const exportStart = performance.now();
  const exported = await exportSae({ cfg, dIn, params: run.state.params, variantState: run.state.variantState, normScale: run.normScale, metadata: { seed: input.seed, steps: cfg.steps, max_activation_norm: Number.isFinite(run.maxNorm) ? run.maxNorm : null } }, outDir);
  const exportMs = performance.now() - exportStart;
  const trainedSteps = run.state.step - stepsAtStart;
  return {
    variant: cfg.variant,
    architecture: exported.architecture,
    steps: run.state.step,
    tokens: run.tokensSeen,
    dIn,
    dSae: cfg.dSae,
    dataDtype: dtype,
    device: input.device,
    normScale: run.normScale,
    resumedFromStep: resumed ? stepsAtStart : null,
    resampledLatents: run.resampled,
    mechanisms: run.mechanisms,
    finalMetrics: last,
    tokensPerSecond: trainingMs > 0 ? (trainedSteps * cfg.batchSize) / (trainingMs / 1000) : 0,
    durationsMs: { total: performance.now() - started, training: trainingMs, export: exportMs },
  };
}

async function trainLoop(setup: Setup, seed: number, run: RunState, runner: StepRunner, outDir: string, ctx: StageContext): Promise<Record<string, number>> {
  const { cfg, dIn, dtype } = setup;
  const rows = cfg.batchSize;
  const streamOpts = { mode: setup.mode, batchSize: rows, seqLen: setup.seqLen, seed, bufferBytes: bufferBytes(cfg), maxNorm: run.maxNorm };
  const stream = new BatchStream(setup.data, streamOpts, dIn, dtype, run.cursor);
  const capacity = cfg.stepsPerRun * rows;
  const buffers: BatchBuffers = { xs: dtype === 'float16' ? new Uint16Array(capacity * dIn) : new Float32Array(capacity * dIn) };
  if (setup.mode === 'sequence') Object.assign(buffers, { tokenMasks: new Float32Array(capacity), pairMasks: new Float32Array(capacity) });
  let last: Record<string, number> = {};
  while (run.state.step < cfg.steps) {
    throwIfAborted(ctx.signal);
    const first = run.state.step;
    const m = nextRunLength(cfg, first);
    for (let i = 0; i < m; i++) await stream.fill(buffers, i);
    const t0 = performance.now();
    const batch = {
      steps: m,
      xs: buffers.xs.subarray(0, m * rows * dIn),
      tokenMasks: buffers.tokenMasks?.subarray(0, m * rows),
      pairMasks: buffers.pairMasks?.subarray(0, m * rows),
    };
    const result = await runner.run(run.state, batch, scheduleTable(cfg, first, m), run.normScale);
    const tokensPerS = (m * rows) / ((performance.now() - t0) / 1000);
    run.cursor = stream.cursor();
    run.tokensSeen += result.accumulators.tokens[0];
    const lines = metricLines(cfg, runner.graph.metricNames, result, first, m);
    for (const line of lines) observeStep(run.mechanisms, cfg, line);
    await appendMetrics(outDir, lines.filter((l) => l.step % cfg.logEvery === 0 || l.step === cfg.steps));
    last = lines[lines.length - 1];
    reportProgress(ctx, cfg, run.state.step, last, tokensPerS);
    await maybeResample(setup, run, result, batch, ctx);
    if (run.state.step % cfg.checkpointEvery === 0 || run.state.step === cfg.steps) await saveRunState(outDir, cfg, seed, run, dIn, dtype);
  }
  return last;
}

/** Log lines of one run's steps: no wall-clock values, so metrics.jsonl is a deterministic artifact. */
function metricLines(cfg: TrainConfig, names: string[], result: RunResult, first: number, m: number): MetricsLine[] {
  const width = names.length;
  const lines: MetricsLine[] = [];
  for (let i = 0; i < m; i++) {
    const step = first + i + 1;
    const line: MetricsLine = { step, tokens: step * cfg.batchSize };
    names.forEach((name, j) => (line[name === 'lambda' ? 'lambda_t' : name === 'alpha' ? 'alpha_t' : name] = result.metrics[i * width + j]));
    line.lr = learningRate(cfg, step - 1);
    lines.push(line);
  }
  return lines;
}

function reportProgress(ctx: StageContext, cfg: TrainConfig, step: number, metrics: Record<string, number>, tokensPerS: number): void {
  const { step: _s, tokens: _t, ...rest } = metrics;
  ctx.onProgress({ stage: 'train', item: cfg.variant, done: step, total: cfg.steps, unit: 'steps', rate: tokensPerS / cfg.batchSize, metrics: { ...rest, tokens_per_s: tokensPerS } });
}

/** atr: statistics window bookkeeping and Eq. 6 resampling at multiples of resampleEvery. */
async function maybeResample(setup: Setup, run: RunState, result: RunResult, batch: { steps: number; xs: Float32Array | Uint16Array; tokenMasks?: Float32Array }, ctx: StageContext): Promise<void> {
  const { cfg } = setup;
  if (cfg.variant !== 'atr') return;
  const acc = result.accumulators;
  run.window.push({ steps: batch.steps, tokens: acc.tokens[0], fired: acc.fired, actSum: acc.actSum, actSqSum: acc.actSqSum });
  const step = run.state.step;
  if (cfg.resampleEvery === 0 || step % cfg.resampleEvery !== 0 || step >= cfg.steps) return;
  const { scores, fireRate } = resampleScores(run.window, cfg.dSae, cfg.gamma);
  const latents = selectForResampling(cfg, scores, fireRate);
  const rows = Math.min(cfg.resampleSampleTokens, batch.steps * cfg.batchSize);
  const done = await resampleLatents(cfg, run.state, latents, { xs: batch.xs, tokenMask: batch.tokenMasks, rows, dIn: setup.dIn, normScale: run.normScale }, run.prng);
  if (done > 0) run.window.reset(latents);
  run.resampled += done;
  observeResampling(run.mechanisms, step, done);
  ctx.log.info('atr resampling', { step, resampled: done, candidates: latents.length });
}
