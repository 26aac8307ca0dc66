import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvalOptions } from '../../../schemas/eval.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { splitWindows } from '../../../stages/evaluate/activation-windows.js';
import { bootstrapIndices, normalQuantile, quantileSorted } from '../../../stages/evaluate/bootstrap.js';
import { CoreMetricsAccumulator } from '../../../stages/evaluate/core-metrics.js';
import { coreIntervals } from '../../../stages/evaluate/core-units.js';
import { coreOutput, runCoreEval } from '../../../stages/evaluate/eval-core.js';
import { findMassiveDims } from '../../../stages/evaluate/massive-dims.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { binomialStdErrors, type TaskProbeResult } from '../../../stages/evaluate/sparse-probing.js';
import { runTokenPass } from '../../../stages/evaluate/token-pass.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';
import { tableFromWindows } from './helpers/tiny-model.js';

const fixture = loadEvalFixture('uncertainty');
const [rows, seqLen] = fixture.tensors.token_ids.shape;
const d = fixture.tensors.activations.shape[2];
const table = tableFromWindows({ activations: f32(fixture, 'activations'), tokenIds: i32(fixture, 'token_ids'), rows, seqLen, d, specialIds: fixture.meta.special_token_ids });
const sae = createPlainReluSae({ dIn: d, dSae: fixture.tensors.W_enc.shape[1], wEnc: f32(fixture, 'W_enc'), bEnc: f32(fixture, 'b_enc'), wDec: f32(fixture, 'W_dec'), bDec: f32(fixture, 'b_dec') });
const batchPrompts: number = fixture.expected.batch_prompts;
const level: number = fixture.meta.level;

test('bootstrap helpers: NumPy linear quantiles, the normal quantile, seeded indices', () => {
  const sorted = [1, 2, 4, 8, 16];
  // numpy.quantile([1, 2, 4, 8, 16], [0.025, 0.5, 0.9]) = [1.1, 4.0, 12.8]
  assertClose(quantileSorted(sorted, 0.025), 1.1, 1e-12, 'q0.025');
  assertClose(quantileSorted(sorted, 0.5), 4, 1e-12, 'median');
  assertClose(quantileSorted(sorted, 0.9), 12.8, 1e-12, 'q0.9');
  assertClose(normalQuantile(0.975), 1.959963984540054, 1e-8, 'z 0.975');
  assertClose(normalQuantile(0.005), -2.5758293035489, 1e-8, 'z 0.005');
  const a = bootstrapIndices(7, 30, 3);
  assert.deepEqual(a, bootstrapIndices(7, 30, 3), 'same seed, same rows');
  assert.notDeepEqual(a, bootstrapIndices(7, 30, 4));
  assert.ok(a.every((i) => i >= 0 && i < 7));
});

test('massive dimensions: the share rule picks the planted dims on non-special tokens only (NumPy reference)', () => {
  const ref = fixture.expected.massive_dims;
  const massive = findMassiveDims(table, splitWindows(table), ref.threshold);
  assert.deepEqual(massive.dims, ref.dims, 'dim 5 carries a huge BOS value but BOS is special');
  massive.share_of_mean_squared_norm.forEach((s, i) => assertClose(s, ref.shares[i], 1e-9, `share ${massive.dims[i]}`));
  const none = findMassiveDims(table, splitWindows(table), 0.99);
  assert.deepEqual(none.dims, []);
});

test('explained variance with and without massive dims and their bootstrap intervals equal the NumPy reference', async () => {
  const ref = fixture.expected;
  const acc = new CoreMetricsAccumulator(d, sae.dSae, { excludedDims: ref.massive_dims.dims });
  await runTokenPass(table, sae, { batchPrompts, maxBatches: null }, [acc], defaultStageContext());
  const { metrics } = acc.finish();
  for (const [key, value] of Object.entries(ref.metrics as Record<string, number>)) {
    assertClose(metrics[key as keyof typeof metrics] as number, value, 1e-6 * Math.max(1, Math.abs(value)), key);
  }
  assertClose(metrics.massive_dims_share_of_variance, ref.massive_dims.share_of_variance, 1e-9, 'share of variance');
  const intervals = coreIntervals(acc.units, metrics, i32(fixture, 'bootstrap_indices'), level);
  for (const [key, want] of Object.entries(ref.intervals as Record<string, { estimate: number; std_error: number; low: number; high: number }>)) {
    const got = intervals[key];
    for (const field of ['estimate', 'std_error', 'low', 'high'] as const) {
      assertClose(got[field]!, want[field], 1e-6 * Math.max(1, Math.abs(want[field])), `${key}.${field}`);
    }
  }
});

test('runCoreEval reports the excluded dims, intervals around every compared number, and is deterministic', async () => {
  const options = EvalOptions.parse({ core: { batch_size_prompts: batchPrompts, bootstrap_resamples: 300 } }).core;
  const header = { eval_id: 'x', datetime_epoch_millis: 0, sae_label: 'fixture' };
  const run = async () => {
    const result = await runCoreEval({ table, sae }, options, defaultStageContext());
    return coreOutput({ ...result, timing: {} }, options, header);
  };
  const out = await run();
  assert.deepEqual(out.massive_activation_dims.dims, fixture.expected.massive_dims.dims);
  assert.match(out.eval_result_uncertainty.unit, /prompt/);
  for (const key of ['explained_variance', 'explained_variance_legacy', 'explained_variance_without_massive_dims', 'explained_variance_legacy_without_massive_dims', 'l0', 'mse']) {
    const i = out.eval_result_uncertainty.intervals[key];
    assert.ok(i.low! <= i.estimate! && i.estimate! <= i.high! && i.std_error! > 0, `${key}: ${JSON.stringify(i)}`);
  }
  assert.equal(JSON.stringify(await run()), JSON.stringify(out), 'same inputs and seed, same bytes');
  // Blocks of windows when the unit cap is below the window count.
  const blocked = await runCoreEval({ table, sae }, { ...options, bootstrap_max_units: 5 }, defaultStageContext());
  assert.match(blocked.uncertainty.unit, /block of 3 consecutive prompts/);
});

test('binomial standard errors propagate through the class and task means (NumPy reference)', () => {
  const ref = fixture.expected.binomial;
  const tasks = (ref.tasks as { name: string; classes: { p: number; n: number }[] }[]).map(
    (t) =>
      ({
        dataset_name: t.name,
        classes: t.classes.map((_, i) => String(i)),
        llm: {},
        sae: [],
        perClass: Object.fromEntries(t.classes.map((c, i) => [String(i), { llm: { llm_top_1_test_accuracy: c.p }, sae: [], testExamples: c.n }])),
        trainTexts: 0,
        testTexts: 0,
        deviations: [],
      }) satisfies TaskProbeResult,
  );
  const se = binomialStdErrors(tasks, (c) => c.llm);
  assertClose(se.llm_top_1_test_accuracy, ref.std_error, 1e-12, 'binomial SE');
});
