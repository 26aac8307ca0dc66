import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecords, type CheckResults } from '../../../infra/gpu/check/check-records.js';
import { parseComputeApps } from '../../../infra/gpu/check/gpu-memory.js';
import { blockFlopsPerToken, projectPaperCost, trainRates } from '../../../infra/gpu/check/projection.js';

const memory = (processMiB: number | null, deviceDeltaMiB: number | null = null) => ({ processMiB, deviceDeltaMiB });

function results(): CheckResults {
  return {
    device: 'cuda',
    shape: 'paper',
    gpu: { name: 'NVIDIA H100 80GB HBM3', driver: '580.159.04', memoryMiB: 81559 },
    node: 'v20',
    setup: null,
    extract: [
      { model: 'gemma2-2b', compute: 'float16', result: { stageTokensPerSecond: 60_000, runnerTokensPerSecond: 80_000 }, memory: memory(9000), error: null },
      { model: 'gemma2-2b', reference: 'full-float16', result: { tokensPerSecond: 40_000, torch: '2.11.0' }, memory: memory(null, 18000), error: null },
      { model: 'gemma2-2b', reference: 'truncated-float16', result: { tokensPerSecond: 75_000, torch: '2.11.0' }, memory: memory(7000), error: null },
    ],
    parity: [{ model: 'gemma2-2b', result: { float32: { rel: 5e-5, maxAbs: 0, nonFinite: 0 }, float16: { rel: 2e-3, maxAbs: 0, nonFinite: 0 } }, memory: memory(null), error: null }],
    train: [
      { variant: 'standard', stepsPerRun: 64, dIn: 2304, dSae: 65536, batch: 2048, result: { tokensPerSecond: 50_000 }, memory: memory(12000), error: null },
      { variant: 'standard', reference: 'pytorch', dIn: 2304, dSae: 65536, batch: 2048, result: { tokensPerSecond: 100_000, torch: '2.11.0' }, memory: memory(8000), error: null },
    ],
    errors: [],
  };
}

test('records: ratios are ours over the reference for rates, reference over ours for memory and errors; the GPU is named', () => {
  const records = buildRecords(results(), 'NVIDIA H100 80GB HBM3');
  const find = (metric: string, text: string) => records.find((r) => r.metric === metric && r.case.includes(text))!;
  const full = records.find((r) => r.metric === 'tokens_per_s' && r.reference?.includes('full-float16'))!;
  assert.equal(full.ratio, 1.5);
  assert.match(full.case, /gemma2-2b float16 MatMuls, extract stage on NVIDIA H100 80GB HBM3/);
  assert.equal(full.gpu, 'NVIDIA H100 80GB HBM3');
  assert.equal(records.find((r) => r.metric === 'tokens_per_s' && r.case.includes('extract stage') && r.reference?.includes('truncated'))!.ratio, 60_000 / 75_000);
  assert.equal(find('tokens_per_s', 'prefix runner only').value, 80_000);
  assert.equal(find('peak_gpu_memory', 'gemma2-2b').ratio, 2, 'device delta used when the process row is missing');
  assert.equal(find('rel_error', 'float16 residuals').ratio, 1e-2 / 2e-3);
  assert.equal(find('rel_error', 'float32 residuals vs CPU float32 (TF32 off)').referenceValue, 1e-4);
  assert.equal(find('tokens_per_s', 'standard d_in 2304 x 65536 latents, batch 2048, 64 steps per run').ratio, 0.5);
  assert.equal(find('peak_gpu_memory', 'standard').ratio, 8000 / 12000);
  for (const r of records) for (const key of ['stage', 'case', 'metric', 'value', 'unit', 'reference', 'referenceValue', 'ratio']) assert.ok(key in r, key);
});

test('records skip cases that failed or are missing', () => {
  const r = results();
  r.extract[0].result = null;
  r.train[1].result = null;
  const records = buildRecords(r, 'gpu');
  assert.ok(!records.some((x) => x.stage === 'extract' && x.metric === 'tokens_per_s'));
  assert.equal(records.find((x) => x.stage === 'train' && x.metric === 'tokens_per_s')!.ratio, null);
});

test('nvidia-smi process rows are summed per pid', () => {
  assert.deepEqual([...parseComputeApps('1234, 500\n99, 10\n1234, 20\n\n').entries()], [[1234, 520], [99, 10]]);
});

test('projection: FLOPs per token of a Gemma-2-2B block, missing variants derived, totals add up', () => {
  const shape = { hiddenSize: 2304, intermediateSize: 9216, numLayers: 26, numHeads: 8, numKvHeads: 4, headDim: 256, vocabSize: 256_000 };
  // q 2304x2048, k and v 2304x1024 each, o 2048x2304, MLP 3 x 2304x9216, attention 2 x 128 x 2048.
  assert.equal(blockFlopsPerToken(shape, 128), 2 * (2304 * 2048 + 2 * 2304 * 1024 + 2048 * 2304 + 3 * 2304 * 9216 + 2 * 128 * 2048));
  const rates = trainRates({ standard: 800, topk: 1600, jumprelu: 700, atr: 600 });
  assert.deepEqual(rates.batchtopk, { rate: 1600, basis: "topk's measured rate" });
  assert.equal(rates.gated.rate, 500);
  const p = projectPaperCost({ shape, layer: 12, context: 128, extractTokensPerSecond: 100_000, trainTokensPerSecond: { standard: 800, topk: 1600, jumprelu: 700, atr: 600 } });
  assert.deepEqual(p.missing, []);
  assert.equal(p.items.length, 1 + 6 + 1);
  assert.equal(p.items[0].seconds, (10_000_000 + 4_096_000) / 100_000);
  assert.equal(p.items.find((i) => i.what.startsWith('train standard'))!.seconds, 10_000_000 / 800);
  assert.ok(Math.abs(p.totalSeconds - p.items.reduce((s, i) => s + i.seconds, 0)) < 1e-9);
  const splice = p.items.at(-1)!;
  const block = blockFlopsPerToken(shape, 128);
  assert.ok(Math.abs(splice.seconds - 6 * 4_096_000 * (1 / 100_000) * ((13 * block + 2 * 2304 * 256_000) / (13 * block))) < 1e-6);
  assert.deepEqual(projectPaperCost({ shape, layer: 12, context: 128, extractTokensPerSecond: 1, trainTokensPerSecond: { standard: 1 } }).missing, ['topk', 'batchtopk', 'jumprelu', 'atr']);
});
