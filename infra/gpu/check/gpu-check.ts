/**
 * The GPU check (issue 14): on a lent GPU machine with no Node.js and no network, from the
 * payload infra/gpu/payload/build-payload.ts makes, in one run:
 *  1. `tsae gpu setup` from the payload's provider, with the CUDA 13 libraries of the machine's
 *     PyTorch (site-packages/nvidia/*), checked by a CUDA session;
 *  2. extraction tokens/s of our extract stage (float16 MatMuls on cuda) on random models of
 *     Gemma 3 270M's shape (layer 6) and Gemma-2-2B's (layer 12), batch x context of the paper
 *     preset, beside Hugging Face transformers on the same GPU (full forward, and blocks 0..L);
 *  3. parity: cuda residuals against the CPU float32 run (float16 within 1e-2, float32 with
 *     TF32 off within 1e-4);
 *  4. training tokens/s at the paper's shape (d_in 2304, 65,536 latents, batch 2048) for
 *     standard, topk, jumprelu, atr, beside the PyTorch trainer on the same GPU;
 *  5. peak GPU memory of every case (nvidia-smi), bench records and the paper preset's projected
 *     cost, written to --out.
 * `--device cpu --shape tiny` rehearses all of it on a CPU machine.
 *
 *   node gpu-check.mjs --out DIR [--device cuda] [--shape paper|tiny] [--work /tmp/tsae-gpu] [--python python3]
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TrainVariant } from '../../../schemas/train.js';
import { runGpuSetup, verifyCuda } from '../setup/gpu-setup.js';
import { parseCudaLibsMode } from '../setup/cuda-sources.js';
import { runCheckCase, type CheckCase } from './cases.js';
import { gpuFacts, sampleGpuMemory, type MemoryPeak } from './gpu-memory.js';
import { buildRecords, type CheckResults } from './check-records.js';
import { projectPaperCost } from './projection.js';
import { forkCase, serveForkedCase } from '../../../lib/core/forked-case.js';

const CASE_FLAG = '--case';
const here = dirname(fileURLToPath(import.meta.url));

interface Shape {
  models: { name: string; config: string; layers: number; layer: number; batch: number; context: number; batches: number }[];
  train: { dIn: number; dSae: number; batch: number; runs: number; torchSteps: number };
  parityRows: number;
}

const SHAPES: Record<string, Shape> = {
  paper: {
    models: [
      { name: 'gemma3-270m', config: 'gemma3-270m-config.json', layers: 18, layer: 6, batch: 32, context: 128, batches: 16 },
      { name: 'gemma2-2b', config: 'gemma2-2b-config.json', layers: 13, layer: 12, batch: 32, context: 128, batches: 16 },
    ],
    train: { dIn: 2304, dSae: 65_536, batch: 2048, runs: 3, torchSteps: 5 },
    parityRows: 2,
  },
  tiny: {
    models: [
      { name: 'gemma3-tiny', config: 'gemma3-270m-config.json', layers: 8, layer: 6, batch: 4, context: 32, batches: 2 },
      { name: 'gemma2-tiny', config: 'gemma2-2b-config.json', layers: 13, layer: 12, batch: 4, context: 32, batches: 2 },
    ],
    train: { dIn: 64, dSae: 512, batch: 256, runs: 1, torchSteps: 2 },
    parityRows: 2,
  },
};
const VARIANTS: TrainVariant[] = ['standard', 'topk', 'jumprelu', 'atr'];
export const TRAIN_STEPS_PER_RUN = 64;

/** Runs `command` as a child, sampling its GPU memory; resolves with its last stdout JSON line. */
async function measured(start: () => ReturnType<typeof spawn>, label: string): Promise<{ result: Record<string, unknown> | null; memory: MemoryPeak; error: string | null }> {
  let pid: number | undefined;
  const sampler = await sampleGpuMemory(() => pid);
  const child = start();
  pid = child.pid;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const message = new Promise<unknown>((resolve) => child.on('message', resolve));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const memory = await sampler.stop();
  const fromIpc = (await Promise.race([message, Promise.resolve(undefined)])) as Record<string, unknown> | undefined;
  const last = stdout.trim().split('\n').pop() ?? '';
  let result: Record<string, unknown> | null = fromIpc ?? null;
  if (!result && last.startsWith('{')) result = JSON.parse(last);
  const error = code === 0 && result ? null : `${label} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
  process.stderr.write(`[gpu-check] ${label}: ${error ?? JSON.stringify(result)} memory ${JSON.stringify(memory)}\n`);
  return { result, memory, error };
}

function ours(c: CheckCase, env: Record<string, string> = {}) {
  return measured(() => forkCase(import.meta.url, CASE_FLAG, c, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...env } }), `ours ${c.kind} ${JSON.stringify(c)}`);
}

function torch(python: string, args: string[]) {
  return measured(() => spawn(python, [join(here, 'torch_reference.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), `torch ${args.join(' ')}`);
}

async function exportModel(python: string, work: string, m: Shape['models'][number], tiny: boolean): Promise<string> {
  const out = join(work, `${m.name}-L${m.layers}`);
  if (existsSync(join(out, 'tsae.json'))) return out;
  const args = [join(here, 'make_random_model.py'), '--config', join(here, m.config), '--layers', String(m.layers), '--out', out, ...(tiny ? ['--tiny'] : [])];
  const started = Date.now();
  const child = spawn(python, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0 || !existsSync(join(out, 'tsae.json'))) throw new Error(`export of ${m.name} failed (${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  process.stderr.write(`[gpu-check] exported ${m.name} (${m.layers} blocks) in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return out;
}

interface Options {
  out: string;
  device: 'cuda' | 'cpu';
  shapeName: string;
  shape: Shape;
  work: string;
  python: string;
  ortDir: string;
  providerDir: string;
  only: Set<string>;
  cudaLibs: NonNullable<ReturnType<typeof parseCudaLibsMode>>;
}

function options(): Options {
  const { values: o } = parseArgs({
    options: {
      out: { type: 'string' },
      device: { type: 'string', default: 'cuda' },
      shape: { type: 'string', default: 'paper' },
      work: { type: 'string', default: '/tmp/tsae-gpu/work' },
      python: { type: 'string', default: 'python3' },
      'ort-dir': { type: 'string', default: join(here, 'node_modules', 'onnxruntime-node') },
      'provider-dir': { type: 'string', default: join(here, 'provider') },
      only: { type: 'string', default: 'setup,extract,parity,train' },
      'cuda-libs': { type: 'string', default: 'python' },
    },
  });
  const shape = SHAPES[o.shape!];
  const cudaLibs = parseCudaLibsMode(o['cuda-libs']!);
  if (!o.out || !shape || (o.device !== 'cuda' && o.device !== 'cpu') || !cudaLibs) {
    throw new Error('usage: gpu-check --out DIR [--device cuda|cpu] [--shape paper|tiny] [--only setup,extract,parity,train] [--cuda-libs python|system|auto|dir:<folder>]');
  }
  return { out: o.out, device: o.device, shapeName: o.shape!, shape, work: o.work!, python: o.python!, ortDir: o['ort-dir']!, providerDir: o['provider-dir']!, only: new Set(o.only!.split(',')), cudaLibs };
}

/** gpu setup from the payload's provider; on CPU a rehearsal whose probe must fail on the driver alone. */
async function setupPhase(o: Options, results: CheckResults): Promise<void> {
  const setupOptions = { ortDir: o.ortDir, providerDir: o.providerDir, cudaLibs: o.cudaLibs, python: o.python, log: (m: string) => process.stderr.write(`[gpu setup] ${m}\n`) };
  if (o.device === 'cpu') {
    results.setup = { installed: await runGpuSetup({ ...setupOptions, prepareOnly: true }), probe: verifyCuda(o.ortDir) };
    process.stderr.write(`[gpu-check] setup rehearsal: ${JSON.stringify((results.setup as { probe: unknown }).probe)}\n`);
    return;
  }
  try {
    results.setup = await runGpuSetup(setupOptions);
  } catch (error) {
    results.errors.push(`setup: ${(error as Error).message}`);
    throw error;
  }
}

async function extractPhase(o: Options, results: CheckResults, save: () => Promise<void>): Promise<void> {
  for (const m of o.shape.models) {
    const model = await exportModel(o.python, o.work, m, o.shapeName === 'tiny');
    const base = { model, layer: m.layer, device: o.device };
    if (o.only.has('extract')) {
      // float32 speed is left out on cuda (parity checks its numbers); bfloat16 is the paper's type.
      for (const compute of o.device === 'cuda' ? (['float16', 'bfloat16'] as const) : (['float32', 'float16'] as const)) {
        results.extract.push({ model: m.name, compute, ...(await ours({ kind: 'extract', ...base, batch: m.batch, context: m.context, batches: m.batches, compute })) });
      }
      // PyTorch on CPU has no fast half matmuls: the CPU rehearsal compares with float32.
      const references = o.device === 'cuda' ? ([['full', 'float16'], ['truncated', 'float16'], ['truncated', 'bfloat16']] as const) : ([['full', 'float32'], ['truncated', 'float32']] as const);
      for (const [mode, dtype] of references) {
        const args = ['extract', '--config', join(here, m.config), '--layer', String(m.layer), '--batch', String(m.batch), '--context', String(m.context), '--batches', String(m.batches), '--mode', mode, '--dtype', dtype, '--device', o.device, ...(o.shapeName === 'tiny' ? ['--tiny'] : [])];
        results.extract.push({ model: m.name, reference: `${mode}-${dtype}`, ...(await torch(o.python, args)) });
      }
    }
    if (o.only.has('parity')) {
      // TF32 off for the whole child: float32 GEMMs then round like the CPU's; half GEMMs are unaffected.
      const computes = o.device === 'cuda' ? (['float32', 'float16', 'bfloat16'] as const) : (['float32', 'float16'] as const);
      results.parity.push({ model: m.name, ...(await ours({ kind: 'parity', ...base, rows: o.shape.parityRows, context: m.context, computes: [...computes] }, { NVIDIA_TF32_OVERRIDE: '0' })) });
    }
    await save();
  }
}

async function trainPhase(o: Options, results: CheckResults, save: () => Promise<void>): Promise<void> {
  const t = o.shape.train;
  const dims = { dIn: t.dIn, dSae: t.dSae, batch: t.batch };
  // 64 steps per run (the schema's maximum) is what CUDA training should use: parameters and
  // Adam moments cross PCIe once per run. 8 (the default) shows what the copies cost.
  const cases: [TrainVariant, number][] = [...VARIANTS.map((v) => [v, TRAIN_STEPS_PER_RUN] as [TrainVariant, number]), ['standard', 8]];
  for (const [variant, stepsPerRun] of cases) {
    results.train.push({ variant, stepsPerRun, ...dims, ...(await ours({ kind: 'train', variant, ...dims, stepsPerRun, runs: t.runs, device: o.device, seq: 128 % t.batch === 0 ? 128 : t.batch, k: 32 })) });
    if (stepsPerRun !== TRAIN_STEPS_PER_RUN) continue;
    const args = ['train', '--variant', variant, '--d-in', String(t.dIn), '--d-sae', String(t.dSae), '--batch', String(t.batch), '--steps', String(t.torchSteps), '--device', o.device, '--tf32'];
    results.train.push({ variant, reference: 'pytorch', ...dims, ...(await torch(o.python, args)) });
    await save();
  }
}

async function main(): Promise<void> {
  const o = options();
  await mkdir(o.out, { recursive: true });
  await mkdir(o.work, { recursive: true });
  const results = await previousResults(o.work, o.device, o.shapeName, o.only);
  const save = async () => {
    const text = JSON.stringify(results, null, 2);
    await writeFile(join(o.out, 'gpu-check-results.json'), text);
    await writeFile(join(o.work, 'gpu-check-results.json'), text);
  };
  if (o.only.has('setup')) await setupPhase(o, results).finally(save);
  if (o.only.has('extract') || o.only.has('parity')) await extractPhase(o, results, save);
  if (o.only.has('train')) await trainPhase(o, results, save);
  const gpuName = results.gpu?.name ?? o.device;
  const records = buildRecords(results, gpuName);
  const big = o.shape.models[o.shape.models.length - 1];
  const extractRate = results.extract.find((e) => e.model === big.name && e.compute === 'float16' && e.result)?.result?.stageTokensPerSecond as number | undefined;
  const trainRates = Object.fromEntries(results.train.filter((r) => !r.reference && r.stepsPerRun === TRAIN_STEPS_PER_RUN && r.result).map((r) => [r.variant, r.result!.tokensPerSecond as number]));
  const projection = extractRate ? projectPaperCost({ shape: GEMMA2_2B, layer: 12, context: 128, extractTokensPerSecond: extractRate, trainTokensPerSecond: trainRates }) : null;
  await writeFile(join(o.out, 'gpu-check-records.json'), JSON.stringify(records, null, 2));
  await writeFile(join(o.out, 'gpu-check-projection.json'), JSON.stringify({ gpu: gpuName, shape: o.shapeName, projection }, null, 2));
  await save();
  printSummary(records, projection, gpuName);
}

/**
 * Results of earlier calls on this warm machine (kept in the work folder), minus the phases this
 * call reruns: a check split over several device calls still ends with one complete record set.
 */
async function previousResults(work: string, device: 'cuda' | 'cpu', shape: string, only: Set<string>): Promise<CheckResults> {
  const fresh: CheckResults = { device, shape, gpu: await gpuFacts(), node: process.version, setup: null, extract: [], parity: [], train: [], errors: [] };
  const old = await readFile(join(work, 'gpu-check-results.json'), 'utf8').then((t) => JSON.parse(t) as CheckResults, () => null);
  if (!old || old.device !== device || old.shape !== shape || old.gpu?.name !== fresh.gpu?.name) return fresh;
  return { ...fresh, extract: only.has('extract') ? [] : old.extract, parity: only.has('parity') ? [] : old.parity, train: only.has('train') ? [] : old.train };
}

const GEMMA2_2B = { hiddenSize: 2304, intermediateSize: 9216, numLayers: 26, numHeads: 8, numKvHeads: 4, headDim: 256, vocabSize: 256_000 };

function printSummary(records: ReturnType<typeof buildRecords>, projection: ReturnType<typeof projectPaperCost> | null, gpu: string): void {
  const lines = [`\nGPU check on ${gpu}`, `${'stage'.padEnd(9)} ${'metric'.padEnd(22)} ${'ours'.padStart(10)} ${'unit'.padEnd(9)} ${'reference'.padEnd(44)} ${'value'.padStart(10)} ${'ratio'.padStart(6)}   case`];
  for (const r of records) {
    const fmt = (x: number | null) => (x === null ? '-' : x >= 100 ? Math.round(x).toString() : x.toPrecision(3));
    lines.push(`${r.stage.padEnd(9)} ${r.metric.padEnd(22)} ${fmt(r.value).padStart(10)} ${r.unit.padEnd(9)} ${(r.reference ?? '-').slice(0, 44).padEnd(44)} ${fmt(r.referenceValue).padStart(10)} ${fmt(r.ratio).padStart(6)}   ${r.case}`);
  }
  if (projection) {
    lines.push('', `paper preset projected on this GPU: ${(projection.totalSeconds / 60).toFixed(1)} min (goal < 60, moonshot < 30)`);
    for (const i of projection.items) lines.push(`  ${(i.seconds / 60).toFixed(1).padStart(6)} min  ${i.what} (${i.basis})`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

if (!serveForkedCase<CheckCase, unknown>(CASE_FLAG, runCheckCase)) {
  main().catch((error) => {
    process.stderr.write(`[gpu-check] failed: ${String(error?.stack ?? error)}\n`);
    process.exit(1);
  });
}
