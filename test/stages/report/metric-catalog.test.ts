import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VariantReport } from '../../../schemas/report.js';
import { buildMetricRows, findField, lookupMetric, resolvePath, TABLE_1_METRICS } from '../../../stages/report/metric-catalog.js';
import { paperColumnFor, paperValue } from '../../../stages/report/paper-values.js';

const metric = (id: string) => TABLE_1_METRICS.find((m) => m.id === id)!;
const variant = (metrics: Record<string, unknown>) => VariantReport.parse({ label: 'v', variant: 'atr', metrics });

test('finds SAEBench fields flat or nested, never in configs or per-item details', () => {
  const nested = {
    eval_config: { l0: 999 },
    eval_result_details: [{ l0: 5 }],
    eval_result_metrics: { sparsity: { l0: 31.5, l1: 2 }, misc_metrics: { frac_alive: 0.75 } },
  };
  assert.deepEqual(findField(nested, 'l0', 'core'), { value: 31.5, path: 'core.eval_result_metrics.sparsity.l0' });
  assert.equal(findField(nested, 'mse', 'core'), null);
  const v = variant({ core: nested });
  assert.deepEqual(lookupMetric(v, metric('l0')), { value: 31.5, path: 'core.eval_result_metrics.sparsity.l0', note: null });
  assert.deepEqual(lookupMetric(v, metric('frac_alive')), { value: 0.75, path: 'core.eval_result_metrics.misc_metrics.frac_alive', note: null });
  assert.equal(resolvePath({ core: nested }, 'core.eval_result_metrics.sparsity.l0'), 31.5);
  assert.equal(lookupMetric(variant({ core: { l0: 12 } }), metric('l0')).value, 12);
});

test('metric names used as keys of prose (definitions) or strings are not numbers', () => {
  const core = {
    definitions: { explained_variance: 'pooled: 1 - ...', l0: 'mean count of latents != 0 per token' },
    summary: { mse: 'see eval_result_metrics' },
    eval_result_metrics: { reconstruction_quality: { explained_variance: 0.93, mse: 95.5 }, sparsity: { l0: 627.1 } },
  };
  const v = variant({ core });
  assert.deepEqual(lookupMetric(v, metric('explained_variance')), { value: 0.93, path: 'core.eval_result_metrics.reconstruction_quality.explained_variance', note: null });
  assert.equal(lookupMetric(v, metric('l0')).value, 627.1);
  assert.equal(lookupMetric(v, metric('mse')).value, 95.5, 'a string under another key is passed over for the number deeper down');
});

test('missing numbers carry the reason', () => {
  const v = variant({ absorption: { mean_absorption_fraction_score: null, status: 'not enough valid letters' } });
  assert.deepEqual(lookupMetric(v, metric('mean_absorption_fraction_score')), { value: null, path: 'absorption.mean_absorption_fraction_score', note: 'not enough valid letters' });
  assert.equal(lookupMetric(v, metric('sae_top_1_test_accuracy')).note, 'sparse_probing eval did not run');
  assert.equal(lookupMetric(variant({ core: { mse: 1 } }), metric('l0')).note, 'not reported');
  assert.equal(lookupMetric(variant({ core: { l0: Number.NaN } }), metric('l0')).value, null, 'non-finite numbers are not shown');
});

test('Table 1 rows hold every variant and the paper columns', () => {
  const rows = buildMetricRows([variant({ core: { explained_variance: 0.8 } }), VariantReport.parse({ label: 'w', variant: 'gated', metrics: {} })]);
  assert.deepEqual(rows.map((r) => r.id), TABLE_1_METRICS.map((m) => m.id));
  const ev = rows.find((r) => r.id === 'explained_variance')!;
  assert.equal(ev.values.v.value, 0.8);
  assert.equal(ev.values.w.value, null);
  assert.equal(ev.paper.atr?.value, 0.843);
  assert.equal(ev.paper.standard?.source, 'Table 1');
});

test("the paper's Table 1 as published", () => {
  assert.deepEqual(['standard', 'topk', 'jumprelu', 'atr'].map((c) => paperValue('l0', c as 'atr')?.value), [8311.29, 320.0, 319.99, 320.0]);
  assert.deepEqual(['standard', 'topk', 'jumprelu', 'atr'].map((c) => paperValue('kl_div_score', c as 'atr')?.value), [0.999, 0.991, 0.995, 0.99]);
  assert.deepEqual(['standard', 'topk', 'jumprelu', 'atr'].map((c) => paperValue('l2_ratio', c as 'atr')?.value), [0.984, 0.933, 0.953, 0.95]);
  assert.equal(paperValue('mse', 'atr')?.source, 'Sec. 6');
  assert.equal(paperColumnFor('batchtopk'), null);
  assert.equal(paperColumnFor('jumprelu'), 'jumprelu');
});
