import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VariantReport } from '../../../schemas/report.js';
import { absorptionLettersHtml, comparisonHtml, comparisonRows, frontSpec, mechanismsHtml, targetL0Of } from '../../../stages/report/comparison.js';

function sae(label: string, variant: string, hyperparameters: Record<string, unknown>, l0: number, ev: number, extra: Record<string, unknown> = {}): VariantReport {
  return VariantReport.parse({
    label,
    variant,
    hyperparameters,
    metrics: {
      core: {
        eval_result_metrics: { sparsity: { l0 }, reconstruction_quality: { explained_variance: ev }, model_behavior_preservation: { kl_div_score: ev + 0.1 } },
        eval_result_uncertainty: { intervals: { explained_variance: { low: ev - 0.01, high: ev + 0.02 } } },
      },
      absorption: null,
      sparse_probing: null,
      temporal: null,
    },
    ...extra,
  });
}

test('the target L0 is k for topk and batchtopk, the controller target otherwise, none for fixed coefficients', () => {
  assert.equal(targetL0Of(sae('a', 'topk', { k: 89, targetL0: 89 }, 89, 0.8)), 89);
  assert.equal(targetL0Of(sae('b', 'batchtopk', { targetL0: 88.6 }, 89, 0.8)), 89);
  assert.equal(targetL0Of(sae('c', 'atr', { targetL0: 89 }, 89, 0.8)), 89);
  assert.equal(targetL0Of(sae('d', 'standard', { targetL0: 89, sparsityControl: 'fixed' }, 89, 0.8)), null);
  assert.equal(targetL0Of(sae('e', 'external topk', {}, 89, 0.8)), null);
});

test('measured L0 is compared with the target: within 10% is matched, outside is flagged in the table', () => {
  const rows = comparisonRows([sae('std', 'standard', { targetL0: 100 }, 109, 0.7), sae('jr', 'jumprelu', { targetL0: 100 }, 85, 0.75)]);
  assert.deepEqual(
    rows.map((r) => [r.label, r.targetL0, r.l0, Math.round(r.l0Error! * 100), r.matched]),
    [
      ['std', 100, 109, 9, true],
      ['jr', 100, 85, -15, false],
    ],
  );
  assert.deepEqual(rows[0].metrics.explained_variance, { value: 0.7, interval: { low: 0.69, high: 0.72 } });
  assert.equal(rows[0].metrics.ce_loss_score.value, null);
  const html = comparisonHtml(rows);
  assert.match(html, /Not matched \(outside ±10% of the target\): jr\./);
  assert.match(html, /data-target-l0="100"/);
});

test('a front has one point per SAE with its interval and a line through the mean over seeds per architecture and target', () => {
  const rows = comparisonRows([
    sae('topk-s0', 'topk', { k: 50 }, 50, 0.6),
    sae('topk-s1', 'topk', { k: 50 }, 50, 0.62),
    sae('topk-big', 'topk', { k: 100 }, 100, 0.7),
    sae('atr', 'atr', { targetL0: 50 }, 52, 0.58),
  ]);
  const spec = frontSpec(rows, 'explained_variance', 'EV') as { layer: { data: { values: Record<string, number | string>[] } }[] };
  const [line, bars, points] = spec.layer.map((l) => l.data.values);
  assert.equal(points.length, 4);
  assert.deepEqual(bars.find((p) => p.sae === 'topk-s0'), { sae: 'topk-s0', architecture: 'topk', l0: 50, value: 0.6, low: 0.59, high: 0.62 });
  const topkLine = line.filter((p) => p.architecture === 'topk').sort((a, b) => Number(a.l0) - Number(b.l0));
  assert.equal(topkLine.length, 2);
  assert.ok(Math.abs(Number(topkLine[0].value) - 0.61) < 1e-12);
  assert.equal(frontSpec(rows, 'ce_loss_score', 'CE'), null, 'no SAE has the metric: no figure');
});

test("the paper's Table 1 values sit on the front at the same L0 per residual dimension", () => {
  const rows = comparisonRows([sae('topk', 'topk', { k: 89 }, 89, 0.8)]);
  const spec = frontSpec(rows, 'explained_variance', 'EV', 640) as { layer: { data: { values: Record<string, number | string>[] } }[] };
  const paper = spec.layer[3].data.values;
  assert.deepEqual(
    paper.map((p) => [p.architecture, Math.round(Number(p.l0) * 100) / 100, p.value]),
    [
      ['topk (paper)', 88.89, 0.789],
      ['jumprelu (paper)', Math.round(((319.99 * 640) / 2304) * 100) / 100, 0.844],
      ['atr (paper)', 88.89, 0.843],
    ],
  );
  assert.equal((frontSpec(rows, 'explained_variance', 'EV') as { layer: unknown[] }).layer.length, 3, 'no model width: no paper points');
});

test('the mechanisms table shows resampling events, clamp hits and AuxK activity', () => {
  const atr = sae('atr', 'atr', { targetL0: 89 }, 89, 0.8, {
    mechanisms: {
      sparsity: { control: 'target', targetL0: 89, finalL0: 90, lastTenthL0: 88.5, lambda: { steps: 200, initial: 0.1, final: 0.3, min: 0.1, max: 0.31, clampHitsLow: 0, clampHitsHigh: 0, trajectory: [] } },
      deadLatents: { windowTokens: 20480, final: 1, max: 2, firstStep: 30 },
      auxk: null,
      threshold: null,
      resampling: { every: 50, historyWindowSteps: 50, events: 3, latents: 41, eventSteps: [50, 100, 150] },
      alpha: { steps: 200, initial: 0.002, final: 0.004, min: 0.0002, max: 0.02, clampHitsLow: 3, clampHitsHigh: 7, trajectory: [] },
    },
  });
  const topk = sae('topk', 'topk', { k: 89 }, 89, 0.8, {
    mechanisms: { sparsity: { control: 'k', targetL0: 89, finalL0: 89, lastTenthL0: 89, lambda: null }, deadLatents: { windowTokens: 20480, final: 4, max: 6, firstStep: 20 }, auxk: { coefficient: 0.03125, activeSteps: 120, max: 0.2, final: 0.1 }, threshold: null, resampling: null, alpha: null },
  });
  const html = mechanismsHtml([atr, topk]);
  assert.match(html, /3 events, 41 latents \(every 50 steps, window 50\)/);
  assert.match(html, /at clamp 3 low \/ 7 high of 200 steps/);
  assert.match(html, /never at its clamps/);
  assert.match(html, /active 120 steps/);
  assert.match(mechanismsHtml([{ ...topk, dSae: 5120 }]), /4 \(0\.078%\), max 6 \(0\.12%\); window 20,480 tokens/, 'dead latents are a count, with their share of d_sae');
  assert.equal(mechanismsHtml([sae('x', 'external topk', {}, 10, 0.5)]), '', 'no mechanisms: no section');
});

test('absorption per letter greys the letters whose probe fails and shows each SAE per letter', () => {
  const absorption = {
    eval_config: { min_GT_probe_f1: 0.6 },
    probe_f1: { a: 0.9, b: 0.4 },
    words_per_letter: { a: { train: 100, test: 20 }, b: { train: 100, test: 20 } },
    eval_result_details: [{ first_letter: 'a', mean_absorption_fraction: 0.125 }],
    deviations: ['only 1 of 26 letters'],
  };
  const v = VariantReport.parse({ label: 's', variant: 'standard', metrics: { core: null, absorption, sparse_probing: null, temporal: null } });
  const html = absorptionLettersHtml([v]);
  assert.match(html, /<tr class=""><th>a<\/th><td class="num">0\.9(00)?<\/td><td class="num">20<\/td><td class="num">0\.125<\/td><\/tr>/);
  assert.match(html, /<tr class="off"><th>b<\/th>/);
  assert.match(html, /Deviations: only 1 of 26 letters/);
});
