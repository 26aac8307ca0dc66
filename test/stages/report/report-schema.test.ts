import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReportInput, TemporalAnalysis, TrainLogRow } from '../../../schemas/report.js';
import { loadReportFixture } from './report-fixture.js';

test('the committed fixture is a valid ReportInput', () => {
  const parsed = ReportInput.parse(loadReportFixture());
  assert.equal(parsed.variants.length, 3);
  assert.ok(parsed.variants.every((v) => v.features && v.features.latents.length > 0 && v.temporal));
});

test('every schema field is described', () => {
  const undescribed: string[] = [];
  const walk = (schema: unknown, path: string) => {
    const s = schema as { description?: string; def?: { type: string; shape?: Record<string, unknown>; innerType?: unknown; element?: unknown; in?: unknown } };
    const def = s.def;
    if (!def) return;
    if (def.type === 'object') {
      for (const [k, child] of Object.entries(def.shape ?? {})) {
        if (!(child as { description?: string }).description) undescribed.push(`${path}.${k}`);
        walk(child, `${path}.${k}`);
      }
    }
    for (const inner of [def.innerType, def.element, def.in]) if (inner) walk(inner, path);
  };
  walk(ReportInput, 'ReportInput');
  assert.deepEqual(undescribed, []);
});

test('temporal analysis shapes are cross-checked; training rows keep extra keys', () => {
  const t = loadReportFixture().variants[0].temporal!;
  assert.ok(TemporalAnalysis.safeParse(t).success);
  const bad = TemporalAnalysis.safeParse({ ...t, clusters: t.clusters.slice(1), linkage: t.linkage.slice(1) });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error!.issues.map((i) => i.path.join('.')).sort(), ['clusters', 'linkage']);
  assert.equal(TrainLogRow.parse({ step: 3, loss_mse: 0.5 }).loss_mse, 0.5);
});

test('duplicate variant labels are rejected', () => {
  const input = loadReportFixture();
  input.variants[1].label = input.variants[0].label;
  const r = ReportInput.safeParse(input);
  assert.ok(!r.success);
  assert.match(r.error!.issues[0].message, /duplicate variant label/);
});
