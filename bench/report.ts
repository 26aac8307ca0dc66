/**
 * Report benchmark (issue 7): for a demo-sized run (6 SAE variants, d_sae 5120, d_model 640,
 * 16,384 held-out tokens in windows of 128, a Gemma-3-sized unembedding of 262,144 x 640) it
 * measures, per SAE, the three parts of the feature-browser data (as collectFeatureBrowserData
 * runs them): encoding the tokens through an onnxruntime ReLU encoder (L0 ~ 100), folding the
 * latents into the FeatureBrowserAccumulator, and finish() (selection, logit effects through
 * W_U, decoding); then writeReport for all six SAEs (Vega-Lite -> SVG figures, HTML, JSON, CSV,
 * Markdown) and the size of the files, beside the issue's acceptance limits (10 s, 20 MB).
 * When the accumulator rides along the evals' token pass the encoding is already paid, so the
 * report's own build is writeReport + accumulate + finish. Inputs are synthetic (seeded) with
 * the cost of real data of the same shape. Quick mode shrinks tokens and vocabulary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStageContext } from '../lib/core/context.js';
import { createSession, Tensor } from '../lib/onnx/backend.js';
import { GraphBuilder } from '../lib/onnx/graph-builder.js';
import { readRows } from '../stages/report/activation-rows.js';
import { FeatureBrowserAccumulator, type SaeEncoder } from '../stages/report/feature-browser-data.js';
import { writeReport } from '../stages/report/render-report.js';
import { seededRandom, synthesizeReportInput, syntheticTable } from '../test/helpers/synthetic-report-input.js';
import { median, type BenchRecord } from './record.js';

const D_MODEL = 640;
const D_SAE = 5120;
const SEQ = 128;
const THREADS = 2;
const VARIANTS = ['standard', 'topk', 'batchtopk', 'jumprelu', 'gated', 'atr'].map((v) => ({ label: v, variant: v }));
/** Acceptance limits of issue 7. */
const BUILD_LIMIT_S = 10;
const SIZE_LIMIT_MB = 20;

/** A ReLU SAE encoder run by onnxruntime: f = relu(x W_enc + b_enc); pre-activations ~ N(0, 1/3), b_enc = -1.2 gives L0 ~ 100. */
async function ortEncoder(seed: number): Promise<SaeEncoder> {
  const rand = seededRandom(seed);
  const wEnc = Float32Array.from({ length: D_MODEL * D_SAE }, () => (rand() * 2 - 1) * Math.sqrt(3 / D_MODEL));
  const g = new GraphBuilder('float32');
  const x = g.input('x', ['rows', D_MODEL]);
  const w = g.initializer('w_enc', [D_MODEL, D_SAE], wEnc);
  const b = g.initializer('b_enc', [D_SAE], new Float32Array(D_SAE).fill(-1.2));
  g.output('f', g.relu(g.add(g.matmul(x, w), b)));
  const session = await createSession(g.toModel('bench_encoder'), { device: 'cpu', intraOpThreads: THREADS });
  return {
    dIn: D_MODEL,
    dSae: D_SAE,
    async encode(input, rows) {
      const out = await session.run({ x: new Tensor('float32', input, [rows, D_MODEL]) });
      return out.f.data as Float32Array;
    },
    decoderRows() {
      const dec = new Float32Array(D_SAE * D_MODEL);
      for (let j = 0; j < D_SAE; j++) for (let k = 0; k < D_MODEL; k++) dec[j * D_MODEL + k] = wEnc[k * D_SAE + j];
      return dec;
    },
  };
}

/** One SAE's browser data, timing its three parts. */
async function featureBrowserPass(
  encoder: SaeEncoder,
  table: ReturnType<typeof syntheticTable>,
  unembed: { values: Float32Array; vocab: number },
  temporal: { features: number[]; clusters: number[] },
  done: (features: Awaited<ReturnType<FeatureBrowserAccumulator['finish']>>) => void,
): Promise<{ encode: number; accumulate: number; finish: number }> {
  const acc = new FeatureBrowserAccumulator(D_SAE, { requested: temporal.features.slice(0, 50) });
  const times = { encode: 0, accumulate: 0, finish: 0 };
  for (let first = 0; first < table.count; first += acc.options.chunkTokens) {
    const rows = Array.from({ length: Math.min(acc.options.chunkTokens, table.count - first) }, (_, r) => first + r).filter((t) => !table.isSpecial[t]);
    let t0 = performance.now();
    const latents = await encoder.encode(readRows(table, rows), rows.length);
    times.encode += (performance.now() - t0) / 1000;
    t0 = performance.now();
    acc.addRows(table, rows, latents);
    times.accumulate += (performance.now() - t0) / 1000;
  }
  const t0 = performance.now();
  const clusters = new Map(temporal.features.map((f, j) => [f, temporal.clusters[j]]));
  done(await acc.finish({ decode: (ids) => ids.map((i) => ` tok${i}`), decoderRows: encoder.decoderRows(), unembed, clusters }));
  times.finish = (performance.now() - t0) / 1000;
  return times;
}

export async function runReportBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  const tokens = options.quick ? 4096 : 16_384;
  const vocab = options.quick ? 32_768 : 262_144;
  const repeats = options.quick ? 1 : 3;
  const caseName = `6 variants, d_sae ${D_SAE}, d_model ${D_MODEL}, ${tokens} eval tokens, vocab ${vocab}, ${THREADS} threads`;
  const rand = seededRandom(5);
  const table = syntheticTable(tokens, SEQ, D_MODEL, vocab, 6);
  const unembed = { values: Float32Array.from({ length: vocab * D_MODEL }, () => rand() * 2 - 1), vocab };
  const input = synthesizeReportInput({ variants: VARIANTS, dSae: D_SAE, positions: SEQ, trainSteps: options.quick ? 500 : 4883, temporalFeatures: options.quick ? 200 : 1000, seed: 7 });

  const parts = { encode: [] as number[], accumulate: [] as number[], finish: [] as number[] };
  const variantsWithData = options.quick ? 2 : input.variants.length;
  for (const [i, v] of input.variants.slice(0, variantsWithData).entries()) {
    const times = await featureBrowserPass(await ortEncoder(100 + i), table, unembed, v.temporal!, (features) => (v.features = features));
    parts.encode.push(times.encode);
    parts.accumulate.push(times.accumulate);
    parts.finish.push(times.finish);
  }
  // Quick mode: the remaining SAEs reuse the second one's browser data (the report cost is the same).
  for (const v of input.variants.slice(variantsWithData)) v.features = input.variants[variantsWithData - 1].features;

  const dir = await mkdtemp(join(tmpdir(), 'tsae-bench-report-'));
  try {
    const buildTimes: number[] = [];
    let files: { name: string; bytes: number }[] = [];
    for (let r = 0; r < repeats; r++) {
      const summary = await writeReport(input, join(dir, `r${r}`), defaultStageContext());
      buildTimes.push(summary.durationMs / 1000);
      files = summary.files;
    }
    const build = median(buildTimes);
    const [encode, accumulate, finish] = [median(parts.encode), median(parts.accumulate), median(parts.finish)];
    const html = files.find((f) => f.name === 'index.html')!.bytes / 1e6;
    const total = files.reduce((a, f) => a + f.bytes, 0) / 1e6;
    const n = VARIANTS.length;
    const limit = (metric: string, value: number, unit: string, ref: number): BenchRecord => ({ stage: 'report', case: caseName, metric, value, unit, reference: 'issue 7 acceptance limit', referenceValue: ref, ratio: ref / value });
    const plain = (metric: string, value: number, unit: string): BenchRecord => ({ stage: 'report', case: caseName, metric, value, unit, reference: null, referenceValue: null, ratio: null });
    return [
      limit('writeReport time (6 SAEs)', build, 's', BUILD_LIMIT_S),
      limit('report build: writeReport + browser data of 6 SAEs on the evals token pass', build + n * (accumulate + finish), 's', BUILD_LIMIT_S),
      limit('report build standalone: writeReport + 6 collectFeatureBrowserData passes', build + n * (encode + accumulate + finish), 's', BUILD_LIMIT_S),
      plain('feature browser per SAE: encode (median)', encode, 's'),
      plain('feature browser per SAE: accumulate (median)', accumulate, 's'),
      plain('feature browser per SAE: finish incl. logit effects (median)', finish, 's'),
      limit('index.html size', html, 'MB', SIZE_LIMIT_MB),
      limit('report files size', total, 'MB', SIZE_LIMIT_MB),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
