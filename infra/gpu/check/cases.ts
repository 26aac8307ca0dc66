/**
 * The GPU check's measurements of our code, each run in its own child process (gpu-check.ts
 * forks itself with `--case <json>`) so its GPU memory can be sampled alone and a crash in
 * a provider cannot take the check down:
 *  - extract: the extract stage (tokens -> Arrow parts, residual after block L) at a batch
 *    and context, its rate without session creation (the stage's own tokensPerSecond), and the
 *    prefix runner alone (model + device-to-host copy, no Arrow writing);
 *  - parity: residuals on the device against the CPU float32 run of the same rows;
 *  - train: the SAE step graph (stages/train/step-runner.ts) at a shape, ms per optimizer step.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenRow } from '../../../schemas/token-shard.js';
import { TrainConfig, type TrainVariant } from '../../../schemas/train.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import type { Device } from '../../../lib/onnx/backend.js';
import { extractActivations } from '../../../stages/extract/extract.js';
import type { ComputeDtype } from '../../../stages/model/autocast.js';
import { loadModelFolder } from '../../../stages/model/model-folder.js';
import { createPrefixRunner } from '../../../stages/model/prefix-runner.js';
import { Prng } from '../../../stages/train/prng.js';
import { scheduleTable } from '../../../stages/train/schedule.js';
import { StepRunner, type TrainState } from '../../../stages/train/step-runner.js';
import { variantFor } from '../../../stages/train/variants/index.js';

export type CheckCase =
  | { kind: 'extract'; model: string; layer: number; batch: number; context: number; batches: number; device: Device; compute: ComputeDtype }
  | { kind: 'parity'; model: string; layer: number; rows: number; context: number; device: Device; computes: ComputeDtype[] }
  | { kind: 'train'; variant: TrainVariant; dIn: number; dSae: number; batch: number; stepsPerRun: number; runs: number; device: Device; seq: number; k: number };

/** Deterministic full-context token rows (token values do not change the cost). */
function tokenIds(rows: number, context: number, vocab: number, seed: number): Int32Array {
  let state = seed;
  const ids = new Int32Array(rows * context);
  for (let i = 0; i < ids.length; i++) ids[i] = i % context === 0 ? 2 : 3 + ((state = (state * 1103515245 + 12345) % 2 ** 31) % (vocab - 3));
  return ids;
}

async function* tokenRows(ids: Int32Array, context: number): AsyncIterable<TokenRow> {
  for (let r = 0; r < ids.length / context; r++) {
    const special = new Uint8Array(context);
    special[0] = 1;
    yield { rowId: r, inputIds: ids.subarray(r * context, (r + 1) * context), specialMask: special, docIds: [`r${r}`], docStarts: [0], docOffsets: [0], sourceSets: ['gpu-check'], split: 'train' };
  }
}

async function extractCase(c: Extract<CheckCase, { kind: 'extract' }>) {
  const folder = await loadModelFolder(c.model);
  const vocab = folder.meta.vocabSize;
  const out = await mkdtemp(join(tmpdir(), 'tsae-gpu-extract-'));
  try {
    const common = { modelDir: c.model, layer: c.layer, dtype: 'float16' as const, batchSize: c.batch, device: c.device, computeDtype: c.compute, rowsPerPart: 4 * c.batch, graphDir: join(out, 'graphs') };
    const rows = (n: number, seed: number) => tokenRows(tokenIds(n, c.context, vocab, seed), c.context);
    let started = performance.now();
    await extractActivations({ ...common, rows: rows(c.batch, 1), totalRows: c.batch }, join(out, 'warm'), defaultStageContext());
    const warmSeconds = (performance.now() - started) / 1000;
    const summary = await extractActivations({ ...common, rows: rows(c.batches * c.batch, 2), totalRows: c.batches * c.batch }, join(out, 'run'), defaultStageContext());
    // The prefix alone: same batches, no Arrow parts.
    const runner = await createPrefixRunner({ folder, layer: c.layer, dtype: 'float16', device: c.device, compute: c.compute, graphDir: join(out, 'graphs') });
    const ids = tokenIds(c.batch, c.context, vocab, 3);
    await runner.run(ids, c.batch, c.context);
    started = performance.now();
    for (let b = 0; b < c.batches; b++) await runner.run(ids, c.batch, c.context);
    const runnerRate = (c.batches * c.batch * c.context) / ((performance.now() - started) / 1000);
    await runner.dispose();
    return { stageTokensPerSecond: summary.tokensPerSecond, runnerTokensPerSecond: runnerRate, tokens: summary.tokens, firstCallSeconds: warmSeconds };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function relError(got: Float32Array, want: Float32Array): { rel: number; maxAbs: number; nonFinite: number } {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let nonFinite = 0;
  for (let i = 0; i < got.length; i++) {
    if (!Number.isFinite(got[i])) {
      nonFinite++;
      continue;
    }
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
  }
  return { rel: Math.sqrt(num / den), maxAbs, nonFinite };
}

async function parityCase(c: Extract<CheckCase, { kind: 'parity' }>) {
  const folder = await loadModelFolder(c.model);
  const graphDir = await mkdtemp(join(tmpdir(), 'tsae-gpu-parity-'));
  try {
    const ids = tokenIds(c.rows, c.context, folder.meta.vocabSize, 5);
    const residual = async (device: Device, compute: ComputeDtype) => {
      const runner = await createPrefixRunner({ folder, layer: c.layer, dtype: 'float32', device, compute, graphDir });
      const out = (await runner.run(ids, c.rows, c.context)) as Float32Array;
      await runner.dispose();
      return out;
    };
    const reference = await residual('cpu', 'float32');
    const result: Record<string, unknown> = { tf32Override: process.env.NVIDIA_TF32_OVERRIDE ?? null };
    for (const compute of c.computes) result[compute] = relError(await residual(c.device, compute), reference);
    return result;
  } finally {
    await rm(graphDir, { recursive: true, force: true });
  }
}

/** Random fp16 bits with magnitudes in [2^-3, 2^1) (as bench/train.ts). */
function randomHalf(count: number, rng: Prng): Uint16Array {
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = ((rng.nextU32() & 1) << 15) | ((12 + rng.nextInt(4)) << 10) | rng.nextInt(1024);
  return out;
}

async function trainCase(c: Extract<CheckCase, { kind: 'train' }>) {
  const extra: Record<string, unknown> = c.variant === 'topk' || c.variant === 'batchtopk' ? { k: c.k } : c.variant === 'atr' ? { seqLen: c.seq } : {};
  const cfg = TrainConfig.parse({ variant: c.variant, dSae: c.dSae, steps: 1_000_000, batchSize: c.batch, warmupSteps: 100, stepsPerRun: c.stepsPerRun, ...extra });
  const rng = Prng.fromSeed(1, 'gpu-check');
  const variant = variantFor(c.variant);
  const params = variant.init(c.dIn, c.dSae, cfg, rng, new Float32Array(c.dIn));
  const zeros = () => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float32Array(v.length)]));
  const state: TrainState = { step: 0, params, m: zeros(), v: zeros(), variantState: variant.initialState(cfg, c.dIn), sinceFired: new Float32Array(c.dSae) };
  let started = performance.now();
  const runner = await StepRunner.create(cfg, { rows: c.batch, dIn: c.dIn, dSae: c.dSae }, 'float16', c.device, 0);
  const createSeconds = (performance.now() - started) / 1000;
  const rows = c.stepsPerRun * c.batch;
  const batch = { steps: c.stepsPerRun, xs: randomHalf(rows * c.dIn, rng), tokenMasks: undefined as Float32Array | undefined, pairMasks: undefined as Float32Array | undefined };
  if (c.variant === 'atr') {
    batch.tokenMasks = Float32Array.from({ length: rows }, (_, i) => (i % c.seq === 0 ? 0 : 1));
    batch.pairMasks = Float32Array.from({ length: rows }, (_, i) => (i % c.seq <= 1 ? 0 : 1));
  }
  const times: number[] = [];
  for (let r = 0; r <= c.runs; r++) {
    started = performance.now();
    await runner.run(state, batch, scheduleTable(cfg, state.step, c.stepsPerRun), 1);
    if (r > 0) times.push((performance.now() - started) / 1000 / c.stepsPerRun);
  }
  await runner.dispose();
  const seconds = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  return { msPerStep: seconds * 1000, tokensPerSecond: c.batch / seconds, createSeconds, runs: times.length };
}

export async function runCheckCase(c: CheckCase): Promise<Record<string, unknown>> {
  if (c.kind === 'extract') return extractCase(c);
  if (c.kind === 'parity') return parityCase(c);
  return trainCase(c);
}
