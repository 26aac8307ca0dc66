/**
 * Training-engine benchmark: tokens/s of each variant at d_in = 640 with 8x and 32x expansion
 * (batch 1024, fp16 activations, stepsPerRun 8, 2 threads), measured in one run beside
 *  - a plain onnxruntime MatMul of the encoder's shape (the achieved GFLOP/s share), timed in the
 *    same child process, alternating with the training runs, since the machine's load drifts, and
 *  - the PyTorch 2.13 CPU trainer of the same variant and batch (infra/dev/python/bench_train_torch.py),
 *    run right after,
 * plus the peak RSS of each. Every case runs in a child process so its peak RSS is its own.
 * FLOPs per step count the matrix products each variant's step graph performs (vector ops excluded).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BenchRecord } from './record.js';
import { median } from './record.js';
import { referenceFailed, tailOf, toolchainPython } from './toolchain.js';
import { TrainConfig, type TrainVariant } from '../schemas/train.js';
import { projectPath } from '../lib/core/package-root.js';
import { forkCase, serveForkedCase } from '../lib/core/forked-case.js';
import { matmulCeiling } from './matmul-ceiling.js';
import { StepRunner, type TrainState } from '../stages/train/step-runner.js';
import { scheduleTable } from '../stages/train/schedule.js';
import { Prng } from '../stages/train/prng.js';
import { variantFor } from '../stages/train/variants/index.js';

const D_IN = 640;
const BATCH = 1024;
const K = 32;
const SEQ = 128;
const STEPS_PER_RUN = 8;
const THREADS = 2;
const CASE_FLAG = '--train-bench-case';

interface CaseSpec {
  variant: TrainVariant;
  expansion: number;
  runs: number;
}

interface CaseResult {
  msPerStep: number;
  peakRssMb: number;
  /** Plain MatMul GFLOP/s, timed between the training runs in the same process (the machine is shared). */
  ceilingGflops: number;
}

/** Matrix-product FLOPs of one step graph (dense Gemms 2 B d n each, gathers 2 m d). */
export function flopsPerStep(variant: TrainVariant, b: number, d: number, n: number, k: number): number {
  const dense = 2 * b * d * n;
  if (variant === 'gated') return 8 * dense;
  if (variant === 'topk') return 3 * dense + 4 * b * k * d;
  if (variant === 'batchtopk') return 4 * dense + 2 * b * k * d;
  return 5 * dense;
}

/** The demo's matched-sparsity setting: k for the TopK family, the sparsity controller (target K) for the others. */
function benchConfig(variant: TrainVariant, dSae: number): TrainConfig {
  const extra: Record<string, unknown> = variant === 'topk' || variant === 'batchtopk' ? { k: K } : { targetL0: K, ...(variant === 'atr' ? { seqLen: SEQ } : {}) };
  return TrainConfig.parse({ variant, dSae, steps: 1_000_000, batchSize: BATCH, warmupSteps: 100, stepsPerRun: STEPS_PER_RUN, ...extra });
}

/** Random fp16 bits with magnitudes in [2^-3, 2^1). */
function randomHalf(count: number, rng: Prng): Uint16Array {
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = ((rng.nextU32() & 1) << 15) | ((12 + rng.nextInt(4)) << 10) | rng.nextInt(1024);
  return out;
}

/** Runs in the child: times `runs` session runs of STEPS_PER_RUN steps after one warm-up run. */
async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const dSae = D_IN * spec.expansion;
  const cfg = benchConfig(spec.variant, dSae);
  const rng = Prng.fromSeed(1, 'bench');
  const variant = variantFor(spec.variant);
  const params = variant.init(D_IN, dSae, cfg, rng, new Float32Array(D_IN));
  const zeros = () => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float32Array(v.length)]));
  const state: TrainState = { step: 0, params, m: zeros(), v: zeros(), variantState: variant.initialState(cfg, D_IN), sinceFired: new Float32Array(dSae) };
  const runner = await StepRunner.create(cfg, { rows: BATCH, dIn: D_IN, dSae }, 'float16', 'cpu', THREADS);
  const rows = STEPS_PER_RUN * BATCH;
  const batch = { steps: STEPS_PER_RUN, xs: randomHalf(rows * D_IN, rng), tokenMasks: undefined as Float32Array | undefined, pairMasks: undefined as Float32Array | undefined };
  if (spec.variant === 'atr') {
    batch.tokenMasks = Float32Array.from({ length: rows }, (_, i) => (i % SEQ === 0 ? 0 : 1));
    batch.pairMasks = Float32Array.from({ length: rows }, (_, i) => (i % SEQ <= 1 ? 0 : 1));
  }
  // Training runs alternate with MatMul-ceiling runs so both see the same machine load.
  const ceiling = await matmulCeiling(BATCH, D_IN, dSae, THREADS);
  const times: number[] = [];
  const ceilingMs: number[] = [];
  for (let r = 0; r <= spec.runs; r++) {
    const t0 = performance.now();
    await runner.run(state, batch, scheduleTable(cfg, state.step, STEPS_PER_RUN), 1);
    const trainMs = (performance.now() - t0) / STEPS_PER_RUN;
    const matmulMs = await ceiling.time();
    if (r > 0) {
      times.push(trainMs);
      ceilingMs.push(matmulMs);
    }
  }
  await runner.dispose();
  await ceiling.release();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  return { msPerStep: median(times), peakRssMb, ceilingGflops: ceiling.gflops(median(ceilingMs)) };
}

function runCaseInChild(spec: CaseSpec): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const child = forkCase(import.meta.url, CASE_FLAG, spec, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as CaseResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`train bench case ${JSON.stringify(spec)} exited with ${code}`)));
  });
}

async function torchCase(variant: TrainVariant, dSae: number, steps: number): Promise<{ ms_per_step: number; tokens_per_s: number; peak_rss_mb: number }> {
  const python = await toolchainPython('ml');
  const script = projectPath('infra', 'dev', 'python', 'bench_train_torch.py');
  const args = [script, '--variant', variant, '--d-in', String(D_IN), '--d-sae', String(dSae), '--batch', String(BATCH), '--k', String(K), '--seq', String(SEQ), '--steps', String(steps), '--threads', String(THREADS)];
  const reference = `pytorch-2.13-cpu ${variant} d_sae ${dSae}`;
  const { stdout } = await promisify(execFile)(python, args, { maxBuffer: 1 << 20 }).catch((error: Error & { stderr?: string }) =>
    referenceFailed('train', reference, `${script}: ${error.message.split('\n')[0]}\n${tailOf(error.stderr)}`),
  );
  const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { ms_per_step: number; tokens_per_s: number; peak_rss_mb: number };
  if (!(result.tokens_per_s > 0 && result.peak_rss_mb > 0)) referenceFailed('train', reference, `no timings in its output: ${stdout.slice(-200)}`);
  return result;
}

export async function runTrainBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  await toolchainPython('ml'); // before the measurements: a fresh clone installs it here
  const variants: TrainVariant[] = options.quick ? ['standard', 'topk'] : ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr'];
  const expansions = options.quick ? [8] : [8, 32];
  // Four timed runs of 8 steps (and 5 PyTorch steps) per case: with two, one slow run moved a ratio by 10%.
  const runs = options.quick ? 1 : 4;
  const records: BenchRecord[] = [];
  for (const expansion of expansions) {
    const dSae = D_IN * expansion;
    for (const variant of variants) {
      const ours = await runCaseInChild({ variant, expansion, runs });
      const torch = await torchCase(variant, dSae, runs + 1);
      const name = `${variant} d${D_IN} x${expansion} B${BATCH}`;
      const tokensPerS = BATCH / (ours.msPerStep / 1000);
      const gflops = flopsPerStep(variant, BATCH, D_IN, dSae, K) / (ours.msPerStep / 1000) / 1e9;
      records.push(
        { stage: 'train', case: name, metric: 'tokens_per_s', value: tokensPerS, unit: 'tokens/s', reference: 'pytorch-2.13-cpu', referenceValue: torch.tokens_per_s, ratio: tokensPerS / torch.tokens_per_s },
        { stage: 'train', case: name, metric: 'achieved_gflops', value: gflops, unit: 'GFLOP/s', reference: 'onnxruntime MatMul', referenceValue: ours.ceilingGflops, ratio: gflops / ours.ceilingGflops },
        { stage: 'train', case: name, metric: 'peak_rss', value: ours.peakRssMb, unit: 'MB', reference: 'pytorch-2.13-cpu', referenceValue: torch.peak_rss_mb, ratio: torch.peak_rss_mb / ours.peakRssMb },
      );
    }
  }
  return records;
}

serveForkedCase(CASE_FLAG, runCase);
