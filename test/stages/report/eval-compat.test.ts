/**
 * The report reads the evaluate stage's outputs as they are: the temporal eval's `analysis`
 * is a TemporalAnalysis, and Table 1 finds every metric inside the SAEBench-shaped eval JSON.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import type { TemporalEvalOutput } from '../../../schemas/eval.js';
import { TemporalAnalysis, VariantReport } from '../../../schemas/report.js';
import { buildMetricRows } from '../../../stages/report/metric-catalog.js';
import { loadReportFixture } from './report-fixture.js';

// Compile-time: the eval's analysis object is accepted where the report wants a TemporalAnalysis.
const asReportInput = (a: NonNullable<TemporalEvalOutput['analysis']>): z.input<typeof TemporalAnalysis> => a;

test("the temporal eval's analysis parses as the report's TemporalAnalysis", () => {
  const t = loadReportFixture().variants[0].temporal!;
  const analysis = { ...t, perPosition: { ...t.perPosition, tokens: t.positions.map(() => 10) } } as NonNullable<TemporalEvalOutput['analysis']>;
  assert.ok(TemporalAnalysis.safeParse(asReportInput(analysis)).success);
});

test('Table 1 reads SAEBench-shaped eval JSON as the evaluate stage writes it', () => {
  const v = VariantReport.parse({
    label: 'atr',
    variant: 'atr',
    metrics: {
      core: { eval_config: { l0: 1 }, eval_result_metrics: { reconstruction_quality: { explained_variance: 0.81, explained_variance_legacy: 0.79, mse: 3.2 }, sparsity: { l0: 33, l1: 9 }, shrinkage: { l2_ratio: 0.93, relative_reconstruction_bias: 0.97 }, model_behavior_preservation: { kl_div_score: 0.95 }, model_performance_preservation: { ce_loss_score: 0.9 }, misc_metrics: { frac_alive: 0.6 } } },
      absorption: { status: 'not_enough_valid_letters', eval_result_metrics: { mean: null, words: { train: 10, test: 5, valid_letters: 3 } }, eval_result_details: [] },
      sparse_probing: { eval_result_metrics: { llm: { llm_test_accuracy: 0.95 }, sae: { sae_top_1_test_accuracy: 0.7, sae_top_2_test_accuracy: 0.75, sae_top_5_test_accuracy: 0.8 } }, eval_result_details: [{ dataset_name: 'x', sae_top_1_test_accuracy: 0.1 }] },
      temporal: { eval_result_metrics: { temporal: { temporal_instability: 0.4, lag1_autocorrelation: 0.3, n_clusters: 4 } } },
    },
  });
  const values = Object.fromEntries(buildMetricRows([v]).map((r) => [r.id, r.values.atr]));
  assert.equal(values.explained_variance.value, 0.81);
  assert.equal(values.l0.value, 33);
  assert.equal(values.frac_alive.path, 'core.eval_result_metrics.misc_metrics.frac_alive');
  assert.equal(values.sae_top_1_test_accuracy.value, 0.7, 'the mean over tasks, not a per-task detail');
  assert.equal(values.llm_test_accuracy.value, 0.95);
  assert.equal(values.temporal_instability.value, 0.4);
  assert.equal(values.lag1_autocorrelation.value, 0.3);
  assert.equal(values.n_clusters.value, 4);
  assert.deepEqual(values.mean_absorption_fraction_score, { value: null, path: null, note: 'not enough valid letters' });
});
