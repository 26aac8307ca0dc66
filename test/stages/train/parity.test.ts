/**
 * One training step of every variant equals the independent PyTorch implementation
 * (infra/dev/python/reference_train.py, fixtures in test/fixtures/train/): raw gradients and loss
 * terms from the float32 gradient graph, and parameters, Adam moments, variant state, dead-latent
 * counters and metrics after the full step graph (projection, clipping, Adam, renormalisation).
 * The fixtures follow named reference implementations where we match one: AuxK (dictionary_learning
 * get_auxiliary_loss, in the topk and batchtopk fixtures, with dead latents), the JumpReLU L0 loss
 * and coefficient units (SAELens JumpReLUTrainingSAE), the BatchTopK threshold (dictionary_learning
 * update_threshold, one step here and a sequence in batchtopk-threshold.json), and the sparsity
 * controller (CoefficientAutotuner.update, in the standard, gated, jumprelu and atr states).
 * Tolerance: normwise relative error max|ours - ref| / max|ref| <= 1e-5 per tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixturePath } from '../../helpers/paths.js';
import { TrainConfig, TRAIN_VARIANTS } from '../../../schemas/train.js';
import { createSession, Tensor } from '../../../lib/onnx/backend.js';
import { buildGradientGraph } from '../../../stages/train/gradient-graph.js';
import { StepRunner, type TrainState } from '../../../stages/train/step-runner.js';
import { learningRate, scheduleTable } from '../../../stages/train/schedule.js';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.js';
import { updateThreshold } from '../../../stages/train/variants/batchtopk.js';
import { variantFor } from '../../../stages/train/variants/index.js';
import type { StepInputs } from '../../../stages/train/variants/types.js';

const TOL = 1e-5;

interface Fixture {
  config: Record<string, unknown>;
  tensors: Record<string, { offset: number; shape: number[] }>;
  state: Record<string, number>;
  nextState: Record<string, number>;
  metrics: Record<string, number>;
  step: number;
  normScale: number;
  rows: number;
  dIn: number;
  initialCoefficient: number | null;
}

function loadFixture(variant: string) {
  const meta = JSON.parse(readFileSync(fixturePath('train', `${variant}.json`), 'utf8')) as Fixture;
  const bin = readFileSync(fixturePath('train', `${variant}.bin`));
  const tensor = (name: string): Float32Array => {
    const entry = meta.tensors[name];
    assert.ok(entry, `fixture ${variant} lacks ${name}`);
    const size = entry.shape.reduce((a, b) => a * b, 1);
    return new Float32Array(bin.buffer.slice(bin.byteOffset + entry.offset, bin.byteOffset + entry.offset + size * 4));
  };
  return { meta, tensor };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = TOL): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  assert.ok(maxErr <= tol * Math.max(maxRef, 1e-12), `${label}: max error ${maxErr} vs max |ref| ${maxRef}`);
}

/** One fixture per variant, plus jumprelu with dictionary_learning's quadratic target-L0 penalty. */
const FIXTURES = [...TRAIN_VARIANTS, 'jumprelu-quadratic'];

for (const variant of FIXTURES) {
  test(`${variant}: gradients and loss terms equal the PyTorch reference`, async () => {
    const { meta, tensor } = loadFixture(variant);
    const cfg = TrainConfig.parse(meta.config);
    const dims = { rows: meta.rows, dIn: meta.dIn, dSae: cfg.dSae };
    const graph = buildGradientGraph(cfg, dims, 'float32', 'none');
    const session = await createSession(graph.model, { device: 'cpu', intraOpThreads: 1 });
    const x = tensor('x').map((v) => Math.fround(v * meta.normScale));
    const since = tensor('sinceFired');
    const feeds: Record<string, Tensor> = {
      x: new Tensor('float32', x, [dims.rows, dims.dIn]),
      sparsityScale: new Tensor('float32', Float32Array.of(1), []),
      step: new Tensor('float32', Float32Array.of(meta.step), []),
      controlFactor: new Tensor('float32', Float32Array.of(learningRate(cfg, meta.step) / cfg.lr), []),
      deadMask: new Tensor('float32', since.map((s) => (s >= cfg.deadWindowTokens ? 1 : 0)), [dims.dSae]),
    };
    if (cfg.variant === 'atr') {
      feeds.tokenMask = new Tensor('float32', tensor('tokenMask'), [dims.rows]);
      feeds.pairMask = new Tensor('float32', tensor('pairMask'), [dims.rows]);
    }
    for (const name of graph.params) feeds[`param:${name}`] = new Tensor('float32', tensor(`param:${name}`), meta.tensors[`param:${name}`].shape);
    for (const name of graph.state) feeds[`state:${name}`] = new Tensor('float32', Float32Array.of(meta.state[name]), []);
    const out = await session.run(feeds);
    for (const name of graph.params) assertClose(out[`grad:${name}`].data as Float32Array, tensor(`grad:${name}`), `${variant} grad ${name}`);
    for (const term of graph.terms) assertClose(out[`term:${term}`].data as Float32Array, [meta.metrics[term]], `${variant} term ${term}`);
    assertClose(out.recon.data as Float32Array, tensor('recon'), `${variant} reconstruction`);
    assertClose(out.l0.data as Float32Array, [meta.metrics.l0], `${variant} l0`);
  });

  test(`${variant}: one full optimizer step equals the PyTorch reference`, async () => {
    const { meta, tensor } = loadFixture(variant);
    const cfg = TrainConfig.parse(meta.config);
    const runner = await StepRunner.create(cfg, { rows: meta.rows, dIn: meta.dIn, dSae: cfg.dSae }, 'float32', 'cpu', 1);
    const names = runner.paramSpecs.map((p) => p.name);
    const pick = (prefix: string) => Object.fromEntries(names.map((n) => [n, tensor(`${prefix}:${n}`)]));
    const state: TrainState = {
      step: meta.step,
      params: pick('param'),
      m: pick('m'),
      v: pick('v'),
      variantState: Object.fromEntries(runner.graph.state.map((s) => [s, Float32Array.of(meta.state[s])])),
      sinceFired: tensor('sinceFired'),
    };
    const batch = cfg.variant === 'atr' ? { steps: 1, xs: tensor('x'), tokenMasks: tensor('tokenMask'), pairMasks: tensor('pairMask') } : { steps: 1, xs: tensor('x') };
    const result = await runner.run(state, batch, scheduleTable(cfg, meta.step, 1), meta.normScale);
    for (const n of names) {
      assertClose(state.params[n], tensor(`next:param:${n}`), `${variant} param ${n}`);
      assertClose(state.m[n], tensor(`next:m:${n}`), `${variant} Adam m ${n}`);
      assertClose(state.v[n], tensor(`next:v:${n}`), `${variant} Adam v ${n}`);
    }
    assertClose(state.sinceFired, tensor('next:sinceFired'), `${variant} sinceFired`);
    for (const s of runner.graph.state) assertClose(state.variantState[s], [meta.nextState[s]], `${variant} state ${s}`);
    runner.graph.metricNames.forEach((name, i) => {
      if (name in meta.metrics) assertClose([result.metrics[i]], [meta.metrics[name]], `${variant} metric ${name}`, name === 'explained_variance' ? 1e-4 : TOL);
    });
    assert.equal(state.step, meta.step + 1);
    await runner.dispose();
  });

  test(`${variant}: the sparsity coefficient starts where the reference puts it`, () => {
    const { meta } = loadFixture(variant);
    const cfg = TrainConfig.parse(meta.config);
    const initial = variantFor(cfg.variant).initialState(cfg, meta.dIn);
    if (meta.initialCoefficient === null) return assert.equal(initial.lambda, undefined);
    assertClose(initial.lambda, [meta.initialCoefficient], `${variant} initial lambda`);
  });
}

test('batchtopk threshold: -1 until the start step, then the first minimum, then the EMA (dictionary_learning update_threshold)', async () => {
  const fx = JSON.parse(readFileSync(fixturePath('train', 'batchtopk-threshold.json'), 'utf8')) as { thresholdStartStep: number; thresholdDecay: number; kept: number[][]; thresholds: number[] };
  const g = new GraphBuilder('float32');
  const kept = g.input('kept', [fx.kept[0].length]);
  const cfg = TrainConfig.parse({ variant: 'batchtopk', dSae: 8, steps: 100, warmupSteps: 0, k: 2, thresholdStartStep: fx.thresholdStartStep, thresholdDecay: fx.thresholdDecay });
  const inputs = { g, cfg, step: g.input('step', []), state: { threshold: g.input('threshold', []) } } as unknown as StepInputs;
  g.output('next', updateThreshold(inputs, kept, fx.thresholdStartStep, fx.thresholdDecay));
  const session = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: 1 });
  let threshold = -1;
  const got: number[] = [];
  for (let step = 0; step < fx.kept.length; step++) {
    const out = await session.run({ kept: new Tensor('float32', Float32Array.from(fx.kept[step]), [fx.kept[step].length]), step: new Tensor('float32', Float32Array.of(step), []), threshold: new Tensor('float32', Float32Array.of(threshold), []) });
    threshold = (out.next.data as Float32Array)[0];
    got.push(threshold);
  }
  assertClose(got, fx.thresholds, 'threshold sequence');
  assert.ok(fx.thresholds.slice(0, fx.thresholdStartStep + 1).every((t) => t === -1), 'fixture covers the steps before the start');
});
