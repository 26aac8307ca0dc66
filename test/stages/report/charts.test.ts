import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TsaeError } from '../../../lib/core/errors.js';
import { countMarks, downsample, renderChart } from '../../../stages/report/charts.js';
import { figure1Spec, FIGURE_1_MAX_LEAVES } from '../../../stages/report/figure-temporal.js';
import { densityHistogram, figure2Spec, lossTerms, trainingCurvesSpec } from '../../../stages/report/figures.js';
import { buildMetricRows } from '../../../stages/report/metric-catalog.js';
import { seededRandom, temporalAnalysis } from '../../helpers/synthetic-report-input.js';
import { VariantReport } from '../../../schemas/report.js';

test('Vega-Lite compiles to SVG in Node, one drawn mark per datum', async () => {
  const spec = { data: { values: [{ a: 'x', b: 1 }, { a: 'y', b: 2 }, { a: 'z', b: 3 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } };
  const { svg, warnings } = await renderChart('t', spec);
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(countMarks(svg), 3);
  assert.deepEqual(warnings, []);
});

test('a spec Vega-Lite rejects is an error naming the chart', async () => {
  await assert.rejects(renderChart('broken', { data: { values: [] }, mark: 'no-such-mark' }), (e: unknown) => e instanceof TsaeError && /Chart 'broken'/.test(e.message));
});

test('downsample keeps the ends and at most max rows', () => {
  const rows = Array.from({ length: 1001 }, (_, i) => i);
  const d = downsample(rows, 100);
  assert.equal(d.length, 100);
  assert.equal(d[0], 0);
  assert.equal(d.at(-1), 1000);
  assert.equal(downsample([1, 2], 100).length, 2);
});

const v = (over: Record<string, unknown>) => VariantReport.parse({ label: 'atr', variant: 'atr', metrics: {}, ...over });

test('Figure 2 draws measured bars and paper diamonds only where values exist', async () => {
  assert.equal(figure2Spec(buildMetricRows([v({ variant: 'gated' })]), [v({ variant: 'gated' })]), null, 'no metrics and no paper column: nothing to draw');
  const variants = [v({ metrics: { core: { explained_variance: 0.8, l0: 30 } } })];
  const spec = figure2Spec(buildMetricRows(variants), variants)!;
  const { svg, warnings } = await renderChart('fig2', spec);
  assert.deepEqual(warnings, []);
  // Panels with a bar: EV, L0 (2 bars). Paper diamonds for atr: EV, MSE, KL, L0, L2 ratio (5).
  assert.equal(countMarks(svg), 7);
});

test('density histogram counts alive latents; training curves read terms and flat loss_ keys', async () => {
  const h = densityHistogram(v({ featureDensity: [0, 1e-3, 1e-3, 0.5, 1] }));
  assert.equal(h.reduce((a, b) => a + b.latents, 0), 4);
  assert.deepEqual(lossTerms({ step: 1, loss_mse: 2, loss_temporal: 0.1, l0: 3 }), { mse: 2, temporal: 0.1 });
  assert.deepEqual(lossTerms({ step: 1, terms: { mse: 1 }, loss_x: 5 }), { mse: 1 });
  assert.deepEqual(lossTerms({ step: 1, mse: 1, l1: 0.2, auxk: 0.1, grad_norm: 3, threshold: 0.5 }), { mse: 1, l1: 0.2, auxk: 0.1 }, "the trainer's flat keys");
  const log = Array.from({ length: 50 }, (_, i) => ({ step: i, loss: 1 / (i + 1), loss_mse: 0.5 / (i + 1), l0: 40 - i / 10, lambda_t: 0.04, alpha_t: 0.002 }));
  const spec = trainingCurvesSpec(v({ trainingLog: log, hyperparameters: { targetL0: 32 } }))!;
  const titles = (spec.concat as { title: string }[]).map((p) => p.title);
  assert.deepEqual(titles, ['Loss terms', 'L0', 'lambda_t (Eq. 4)', 'alpha_t (Eq. 3)']);
  const { svg } = await renderChart('training', spec);
  assert.ok(countMarks(svg) >= 6, 'lines for total, mse, L0, target rule, lambda, alpha');
  assert.equal(trainingCurvesSpec(v({})), null);
});

test('Figure 1 truncates large trees to the leaf budget and draws every cell', async () => {
  const t = temporalAnalysis({ positions: 20, temporalFeatures: 200, dSae: 1000 }, seededRandom(1));
  const spec = figure1Spec('atr', t);
  const [dendrogram, heatmap] = spec.vconcat as { data: { values: unknown[] } }[];
  assert.equal(dendrogram.data.values.length, 3 * (FIGURE_1_MAX_LEAVES - 1));
  assert.equal(heatmap.data.values.length, FIGURE_1_MAX_LEAVES * 20);
  const { svg, warnings } = await renderChart('fig1', spec);
  assert.deepEqual(warnings, []);
  assert.equal(countMarks(svg), 3 * (FIGURE_1_MAX_LEAVES - 1) + FIGURE_1_MAX_LEAVES * 20);
});

test('SVG ids are scoped by chart, so equal specs give equal bytes', async () => {
  const spec = { data: { values: [{ a: 1, b: 2 }] }, mark: 'rect', encoding: { x: { field: 'a', type: 'quantitative' }, color: { field: 'b', type: 'quantitative' } } };
  const first = (await renderChart('same', spec)).svg;
  const second = (await renderChart('same', spec)).svg;
  assert.equal(first, second);
  assert.match(first, /id="c-same-0"/);
  assert.match(first, /url\(#c-same-0\)/);
});
