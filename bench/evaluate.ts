/**
 * Evaluation benchmark (issues 6, 13): eval tokens/s per family and the run-level KL/CE splice
 * of several SAEs in one pass against one SAE at a time, on the demo model (Gemma 3 270M,
 * layer 6, 2 threads) with random ONNX ReLU SAEs; plus the probe solver and the Ward linkage beside scikit-learn / SciPy
 * on the same data (infra/dev/python/bench_evaluate.py), measured in the same run.
 * The bench installs the `ml` toolchain and prepares the demo model first (bench/toolchain.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivationTable } from '../schemas/activation-shard.js';
import { EvalOptions } from '../schemas/eval.js';
import { defaultStageContext } from '../lib/core/context.js';
import { projectPath } from '../lib/core/package-root.js';
import { denseMatrix } from '../stages/evaluate/design-matrix.js';
import { runCoreEval } from '../stages/evaluate/eval-core.js';
import { runSparseProbingEval } from '../stages/evaluate/eval-sparse-probing.js';
import { runTemporalEval } from '../stages/evaluate/eval-temporal.js';
import { linkage, pairwiseDistances } from '../stages/evaluate/hierarchical-clustering.js';
import type { EvalTokenizer, SaeForEval, Splicer } from '../stages/evaluate/interfaces.js';
import { fitSklearnLogistic } from '../stages/evaluate/logistic-regression.js';
import { createRng } from '../stages/evaluate/random.js';
import { spliceSaes } from '../stages/evaluate/splice-multi.js';
import { computeSpliceScores } from '../stages/evaluate/splice-scores.js';
import { runTokenPass } from '../stages/evaluate/token-pass.js';
import { createSplicer } from '../stages/model/splice.js';
import { createSession, Tensor } from '../lib/onnx/backend.js';
import { buildForwardGraph } from '../stages/train/forward-graph.js';
import { median, type BenchRecord } from './record.js';
import { demoModelDir, ensureDemoModel, referenceFailed, tailOf, toolchainPython } from './toolchain.js';

const LAYER = 6;
const THREADS = 2;
const CONTEXT = 128;
const D_SAE = 4096;
const DEMO_DIR = demoModelDir;

/** A random ReLU SAE as an ONNX session (the engine loadSae uses), weights fed as inputs. */
async function onnxSae(dIn: number, dSae: number, seed = 7): Promise<SaeForEval> {
  const rng = createRng(seed);
  const weights: Record<string, Float32Array> = {
    W_enc: Float32Array.from({ length: dIn * dSae }, () => rng.normal() / Math.sqrt(dIn)),
    b_enc: new Float32Array(dSae).fill(-0.5),
    W_dec: Float32Array.from({ length: dSae * dIn }, () => rng.normal() / Math.sqrt(dSae)),
    b_dec: new Float32Array(dIn),
  };
  const session = await createSession(buildForwardGraph({ architecture: 'standard', dIn, dSae }), { device: 'cpu', intraOpThreads: THREADS });
  const feeds = {
    W_enc: new Tensor('float32', weights.W_enc, [dIn, dSae]),
    b_enc: new Tensor('float32', weights.b_enc, [dSae]),
    W_dec: new Tensor('float32', weights.W_dec, [dSae, dIn]),
    b_dec: new Tensor('float32', weights.b_dec, [dIn]),
  };
  const run = (x: Float32Array, rows: number, fetches: string[]) => session.run({ ...feeds, x: new Tensor('float32', x, [rows, dIn]) }, fetches);
  return {
    dIn,
    dSae,
    encode: async (x, rows) => (await run(x, rows, ['latents'])).latents.data as Float32Array,
    forward: async (x, rows) => {
      const out = await run(x, rows, ['latents', 'reconstruction']);
      return { latents: out.latents.data as Float32Array, reconstruction: out.reconstruction.data as Float32Array };
    },
    decoderRows: () => weights.W_dec,
  };
}

/** Held-out-like windows: BOS then random ids, residuals from the real model prefix. */
async function benchTable(splicer: Splicer, windows: number, vocab: number): Promise<ActivationTable> {
  const rng = createRng(3);
  const count = windows * CONTEXT;
  const ids = Int32Array.from({ length: count }, (_, i) => (i % CONTEXT === 0 ? 2 : 3 + rng.int(vocab - 3)));
  const values = await splicer.residuals(ids, windows, CONTEXT);
  return {
    dModel: values.length / count, dtype: 'float32', count, values, tokenIds: ids,
    rowIds: Int32Array.from({ length: count }, (_, i) => Math.floor(i / CONTEXT)),
    positions: Int32Array.from({ length: count }, (_, i) => i % CONTEXT),
    docIndex: new Int32Array(count),
    isSpecial: Uint8Array.from({ length: count }, (_, i) => (i % CONTEXT === 0 ? 1 : 0)),
    sourceSets: new Array(count).fill('bench'),
  };
}

function record(c: string, metric: string, value: number, unit: string, reference: string | null = null, referenceValue: number | null = null): BenchRecord {
  return { stage: 'evaluate', case: c, metric, value, unit, reference, referenceValue, ratio: referenceValue ? value / referenceValue : null };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - started) / 1000, value };
}

async function modelRecords(quick: boolean): Promise<BenchRecord[]> {
  const splicer = await createSplicer({ modelDir: DEMO_DIR(), layer: LAYER, intraOpThreads: THREADS });
  try {
    const windows = quick ? 4 : 16;
    const table = await benchTable(splicer, windows, 200_000);
    const sae = await onnxSae(table.dModel, D_SAE);
    const ctx = defaultStageContext();
    const label = `gemma3-270m L${LAYER}, ReLU SAE ${table.dModel}x${D_SAE}, ${windows}x${CONTEXT} tokens, ${THREADS} threads`;
    const opts = EvalOptions.parse({ core: { batch_size_prompts: 4, n_eval_reconstruction_batches: null } });
    // Cheap passes: a warm-up, then medians of repeats; the model-bound ones run once.
    const repeats = quick ? 2 : 3;
    const medianSeconds = async (fn: () => Promise<unknown>) => {
      const seconds: number[] = [];
      for (let r = 0; r < repeats; r++) seconds.push((await timed(fn)).seconds);
      return { seconds: median(seconds) };
    };
    await runTokenPass(table, sae, { batchPrompts: 4, maxBatches: null }, [], ctx);
    const saeOnly = await medianSeconds(() => runTokenPass(table, sae, { batchPrompts: 4, maxBatches: null }, [], ctx));
    const core = await medianSeconds(() => runCoreEval({ table, sae }, { ...opts.core, compute_splice: false }, ctx));
    const temporal = await medianSeconds(() => runTemporalEval({ table, sae }, opts.temporal, ctx));
    // The run-level splice of S SAEs (clean and ablation once per batch) against splicing them
    // one at a time (what each SAE's core eval did before): throughput in SAE-tokens/s.
    const saes = [sae, await onnxSae(table.dModel, D_SAE, 8), await onnxSae(table.dModel, D_SAE, 9)];
    const spliceOptions = { batchPrompts: 4, maxBatches: null, excludeSpecialTokensFromReconstruction: true, zeroAblateSpecialTokens: true, maxTokensPerCall: 16384 };
    const together = await timed(() => spliceSaes({ table, splicer, saes: saes.map((s, i) => ({ label: `sae${i}`, sae: s })) }, spliceOptions, null, ctx));
    const oneByOne = await timed(async () => {
      for (const s of saes) await computeSpliceScores(table, s, splicer, spliceOptions, ctx);
    });
    const tokens = table.count;
    return [
      record(`core metrics, no splice; ${label}`, 'tokens_per_s', tokens / core.seconds, 'tokens/s', 'SAE forward alone on the same batches (ceiling)', tokens / saeOnly.seconds),
      record(`KL/CE splice of ${saes.length} SAEs in one pass; ${label}`, 'sae_tokens_per_s', (saes.length * tokens) / together.seconds, 'SAE-tokens/s', 'the same SAEs spliced one at a time', (saes.length * tokens) / oneByOne.seconds),
      record(`KL/CE splice of ${saes.length} SAEs in one pass; ${label}`, 'model_time_share', together.value.timing.spliceSeconds / together.seconds, 'fraction'),
      record(`temporal analysis + clustering; ${label}`, 'tokens_per_s', tokens / temporal.seconds, 'tokens/s', 'SAE forward alone on the same batches (ceiling)', tokens / saeOnly.seconds),
      ...(await probingRecords(splicer, sae, quick, label)),
    ];
  } finally {
    await splicer.dispose();
  }
}

/** Sparse probing end to end (model prefix, pooling, SAE, probes) on synthetic token texts. */
async function probingRecords(splicer: Splicer, sae: SaeForEval, quick: boolean, label: string): Promise<BenchRecord[]> {
  const rng = createRng(5);
  const texts = quick ? 48 : 160;
  const ids = new Map<string, number[]>();
  const examples = Array.from({ length: texts }, (_, i) => {
    const text = `t${i}`;
    ids.set(text, [2, ...Array.from({ length: CONTEXT - 1 }, () => 3 + rng.int(200_000))]);
    return { text, label: i % 2 ? 'a' : 'b', task: 'bench' };
  });
  const tokenizer: EvalTokenizer = { encode: (t) => ids.get(t)!, decode: () => '', vocab: () => [], specialIds: [0, 1, 2], padId: 0 };
  const opts = EvalOptions.parse({ sparse_probing: { probe_train_set_size: texts, probe_test_set_size: texts, llm_batch_size: 8, min_examples_per_class: 4 } });
  const run = await timed(() => runSparseProbingEval(examples, { tokenizer, splicer, dIn: sae.dIn, saes: [sae] }, opts.sparse_probing, defaultStageContext()));
  const prefixOnly = await timed(async () => {
    for (let i = 0; i < texts; i += 8) await splicer.residuals(Int32Array.from(examples.slice(i, i + 8).flatMap((e) => ids.get(e.text)!)), Math.min(8, texts - i), CONTEXT);
  });
  const tokens = texts * CONTEXT;
  return [record(`sparse probing, ${texts} texts; ${label}`, 'tokens_per_s', tokens / run.seconds, 'tokens/s', 'model prefix alone on the same texts (ceiling)', tokens / prefixOnly.seconds)];
}

/** Our L-BFGS probe and Ward linkage beside scikit-learn and SciPy on identical data. */
async function solverRecords(quick: boolean): Promise<BenchRecord[]> {
  const rng = createRng(11);
  const [n, d] = [4000, 640];
  const w = Float64Array.from({ length: d }, () => rng.normal());
  const x = Float32Array.from({ length: n * d }, () => rng.normal() * 3 + 1);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += x[i * d + j] * w[j];
    y[i] = z + 20 * rng.normal() > 0 ? 1 : 0;
  }
  const [features, positions] = [512, CONTEXT];
  const profiles = Float32Array.from({ length: features * positions }, () => Math.abs(rng.normal()));
  const repeats = quick ? 2 : 3;
  const fits: number[] = [];
  const links: number[] = [];
  for (let r = 0; r < repeats; r++) {
    fits.push((await timed(async () => fitSklearnLogistic(denseMatrix(x, n, d), Uint8Array.from(y), { C: 1 }))).seconds);
    links.push((await timed(async () => linkage(pairwiseDistances(profiles, features, positions), features, 'ward'))).seconds);
  }
  const ref = await pythonReference({ x, y, n, d, profiles, features, positions, repeats });
  return [
    record(`L2 logistic probe, ${n} x ${d} dense`, 'fits_per_s', 1 / median(fits), 'fits/s', `scikit-learn ${ref.versions['scikit-learn']} lbfgs`, 1 / ref.probe_fit_seconds),
    record(`Ward linkage, ${features} profiles x ${positions} positions`, 'linkages_per_s', 1 / median(links), 'linkages/s', `SciPy ${ref.versions.scipy} linkage`, 1 / ref.linkage_seconds),
  ];
}

const SOLVER_REFERENCE = 'scikit-learn / SciPy (infra/dev/python/bench_evaluate.py)';

/** scikit-learn's probe fit and SciPy's linkage on the same data, in the `ml` toolchain; throws when they cannot run. */
async function pythonReference(data: { x: Float32Array; y: Float32Array; n: number; d: number; profiles: Float32Array; features: number; positions: number; repeats: number }) {
  const python = await toolchainPython('ml');
  const dir = await mkdtemp(join(tmpdir(), 'tsae-bench-eval-'));
  try {
    const files = { x: join(dir, 'x.bin'), y: join(dir, 'y.bin'), p: join(dir, 'p.bin') };
    await writeFile(files.x, new Uint8Array(data.x.buffer));
    await writeFile(files.y, new Uint8Array(data.y.buffer));
    await writeFile(files.p, new Uint8Array(data.profiles.buffer));
    const run = spawnSync(python, [
      projectPath('infra', 'dev', 'python', 'bench_evaluate.py'), '--probe-x', files.x, '--probe-y', files.y, '--n', String(data.n), '--d', String(data.d),
      '--profiles', files.p, '--features', String(data.features), '--positions', String(data.positions), '--repeats', String(data.repeats),
    ], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(THREADS) } });
    if (run.error) referenceFailed('evaluate', SOLVER_REFERENCE, `cannot start ${python}: ${run.error.message}`);
    if (run.status !== 0) referenceFailed('evaluate', SOLVER_REFERENCE, `exited with ${run.status}:\n${tailOf(run.stderr)}`);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { probe_fit_seconds: number; linkage_seconds: number; versions: Record<string, string> };
    if (!(out.probe_fit_seconds > 0 && out.linkage_seconds > 0)) referenceFailed('evaluate', SOLVER_REFERENCE, `no timings in its output: ${run.stdout.slice(-200)}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runEvaluateBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  await toolchainPython('ml'); // before the measurements: a fresh clone installs it here
  await ensureDemoModel();
  const records = await solverRecords(options.quick);
  records.push(...(await modelRecords(options.quick)));
  return records;
}

if (process.argv[1]?.endsWith('evaluate.ts') && process.argv.includes('--run')) {
  const records = await runEvaluateBench({ quick: process.argv.includes('--quick') });
  for (const r of records) process.stdout.write(JSON.stringify(r) + '\n');
}
