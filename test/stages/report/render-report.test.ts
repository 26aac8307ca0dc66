import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { defaultStageContext } from '../../../lib/core/context.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { writeReport, writeReportFromFile, type ReportSummary } from '../../../stages/report/render-report.js';
import type { ReportMetricsJson } from '../../../stages/report/metrics-files.js';
import { fixturePath } from '../../helpers/paths.js';
import { loadReportFixture } from './report-fixture.js';

let dir: string;
let summary: ReportSummary;
const fixture = loadReportFixture();
const out = () => join(dir, 'report');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsae-report-'));
  summary = await writeReport(fixture, out(), defaultStageContext());
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('writes the four files and every figure of the fixture run', async () => {
  assert.deepEqual(summary.files.map((f) => f.name), ['index.html', 'summary.md', 'metrics.json', 'metrics.csv']);
  for (const f of summary.files) assert.equal((await readFile(join(out(), f.name))).length, f.bytes);
  assert.deepEqual(summary.missingFigures, []);
  // 3 fronts (EV, KL, CE against L0), fig2, 3 x fig1, fig3 sparsity, per-position, 3 x training.
  assert.equal(summary.figures.length, 12);
  assert.ok(summary.figures.every((f) => f.marks > 0));
  assert.equal(summary.chartWarnings, 0);
  assert.equal(summary.browsableLatents, fixture.variants.reduce((a, v) => a + v.features!.latents.length, 0));
});

test('metrics.json keeps the eval JSON and Table 1 reads the right numbers (flat and nested)', async () => {
  const m = JSON.parse(await readFile(join(out(), 'metrics.json'), 'utf8')) as ReportMetricsJson;
  assert.deepEqual(Object.keys(m.variants), ['standard', 'topk', 'atr']);
  assert.deepEqual(m.variants.topk.core, fixture.variants[1].metrics!.core);
  const ev = m.table1.find((r) => r.id === 'explained_variance')!;
  const flat = fixture.variants[0].metrics!.core as { explained_variance: number };
  const nested = fixture.variants[1].metrics!.core as { eval_result_metrics: { reconstruction_quality: { explained_variance: number } } };
  assert.equal(ev.values.standard.value, flat.explained_variance);
  assert.equal(ev.values.topk.value, nested.eval_result_metrics.reconstruction_quality.explained_variance);
  assert.equal(ev.values.topk.path, 'core.eval_result_metrics.reconstruction_quality.explained_variance');
  const absorption = m.table1.find((r) => r.id === 'mean_absorption_fraction_score')!;
  assert.deepEqual(absorption.values.standard, { value: null, path: 'absorption.mean_absorption_fraction_score', note: 'not enough valid letters' });
  assert.equal(m.table1.find((r) => r.id === 'n_clusters')!.values.atr.value, fixture.variants[2].temporal!.nClusters);
});

test('metrics.csv and summary.md carry Table 1 with the paper columns', async () => {
  const csv = (await readFile(join(out(), 'metrics.csv'), 'utf8')).trim().split('\n').map((l) => l.split(','));
  assert.deepEqual(csv[0], ['metric', 'label', 'family', 'standard', 'topk', 'atr', 'paper_standard', 'paper_topk', 'paper_jumprelu', 'paper_atr']);
  const l0 = csv.find((r) => r[0] === 'l0')!;
  const standardCore = fixture.variants[0].metrics!.core as { l0: number };
  assert.equal(Number(l0[3]), standardCore.l0);
  assert.deepEqual(l0.slice(6).map(Number), [8311.29, 320, 319.99, 320]);
  const md = await readFile(join(out(), 'summary.md'), 'utf8');
  assert.match(md, /\| Explained variance \(pooled\) \|/);
  assert.match(md, /— \(not enough valid letters\)/);
  assert.match(md, /paper: Ours \(ATR\)/);
  assert.match(md, /k = 4 chosen by silhouette/);
});

test('index.html is self-contained and escapes token text', async () => {
  const html = await readFile(join(out(), 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link\b|@import|url\(\s*['"]?https?:/i);
  const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((x) => x[1]);
  const allowed = new Set(fixture.run.temporalLinks!.map((l) => l.url));
  for (const u of urls) assert.ok(u.startsWith('#') || allowed.has(u), `unexpected reference ${u}`);
  assert.ok(!html.includes('<b>&'), 'token text with markup is escaped in the embedded JSON');
  assert.ok(html.includes('\\u003cb\\u003e'), 'the token is still there, escaped');
});

test('the same input writes the same bytes (deterministic, so retries and caching agree)', async () => {
  await writeReport(fixture, join(dir, 'again'), defaultStageContext());
  for (const f of summary.files) assert.deepEqual(await readFile(join(dir, 'again', f.name)), await readFile(join(out(), f.name)), f.name);
});

test('missing evals show as missing figures, not errors', async () => {
  const input = loadReportFixture();
  for (const v of input.variants) {
    v.temporal = null;
    v.features = null;
  }
  const s = await writeReport(input, join(dir, 'partial'), defaultStageContext());
  assert.deepEqual(s.missingFigures, ['fig1-standard', 'fig1-topk', 'fig1-atr', 'fig3-per-position']);
  const html = await readFile(join(dir, 'partial', 'index.html'), 'utf8');
  assert.match(html, /The temporal analysis did not run for atr/);
  assert.match(html, /No feature-browser data was given/);
});

test('invalid input is bad input naming the field; cancellation writes nothing', async () => {
  const bad = loadReportFixture();
  bad.variants[0].temporal!.activity.pop();
  await assert.rejects(writeReport(bad, join(dir, 'bad'), defaultStageContext()), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_INPUT' && /variants\.0\.temporal\.activity/.test(e.message));
  await assert.rejects(writeReport({ ...loadReportFixture(), run: undefined } as never, join(dir, 'bad'), defaultStageContext()), /run: /);
  const controller = new AbortController();
  controller.abort(new Error('cancelled'));
  await assert.rejects(writeReport(loadReportFixture(), join(dir, 'cancelled'), defaultStageContext({ signal: controller.signal })), /cancelled/);
  assert.equal(existsSync(join(dir, 'cancelled', 'index.html')), false);
});

test('writeReportFromFile reads a saved input and names a bad file', async () => {
  const s = await writeReportFromFile(fixturePath('report', 'report-input.json'), join(dir, 'from-file'), defaultStageContext());
  assert.equal(s.variants, 3);
  await writeFile(join(dir, 'broken.json'), '{"run": ');
  await assert.rejects(writeReportFromFile(join(dir, 'broken.json'), join(dir, 'x'), defaultStageContext()), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_INPUT' && /broken\.json is not valid JSON/.test(e.message));
  await assert.rejects(writeReportFromFile(join(dir, 'missing.json'), join(dir, 'x'), defaultStageContext()), (e: unknown) => e instanceof TsaeError && e.code === 'NOT_FOUND');
});
