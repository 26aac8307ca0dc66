/**
 * The comparison a researcher can trust (issue 13): each SAE's target L0 beside the L0 it
 * reached, the metrics with their error bars, what each training mechanism did (from the train
 * stage's TrainSummary.mechanisms), Pareto fronts of a metric against L0 (points with their
 * bootstrap intervals, a line through each architecture's per-L0 means over seeds), and the
 * absorption eval per first letter.
 */
import type { VariantReport } from '../../schemas/report.js';
import type { CoefficientTrace } from '../train/mechanisms.js';
import type { ChartSpec } from './charts.js';
import { variantColors } from './charts.js';
import { escapeHtml as h, formatNumber } from './format.js';
import { PAPER_TABLE_1 } from './paper-values.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Measured L0 within this share of the target counts as matched (issue 13: +-10%). */
export const L0_TOLERANCE = 0.1;

interface Interval {
  low: number;
  high: number;
}

/** One SAE's numbers for the comparison. */
export interface ComparisonRow {
  label: string;
  variant: string;
  seed: number | null;
  targetL0: number | null;
  l0: number | null;
  /** (measured - target) / target. */
  l0Error: number | null;
  matched: boolean | null;
  metrics: Record<string, { value: number | null; interval: Interval | null }>;
}

/** Metrics of the fronts and the comparison table: [id, family, path in eval_result_metrics, label]. */
export const FRONT_METRICS = [
  ['explained_variance', 'core', 'reconstruction_quality.explained_variance', 'Explained variance'],
  ['kl_div_score', 'core', 'model_behavior_preservation.kl_div_score', 'KL divergence score'],
  ['ce_loss_score', 'core', 'model_performance_preservation.ce_loss_score', 'CE loss score'],
  ['mean_absorption_fraction_score', 'absorption', 'mean.mean_absorption_fraction_score', 'Mean absorption fraction'],
  ['sae_top_1_test_accuracy', 'sparse_probing', 'sae.sae_top_1_test_accuracy', 'Top-1 probe accuracy'],
] as const;

function at(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), root);
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The L0 a trained SAE was asked for: its target, or k for topk / batchtopk; null for external or fixed-coefficient SAEs. */
export function targetL0Of(v: VariantReport): number | null {
  const hp = v.hyperparameters;
  if (v.variant === 'topk' || v.variant === 'batchtopk') return finite(hp.k) ?? (finite(hp.targetL0) === null ? null : Math.round(finite(hp.targetL0)!));
  if (hp.sparsityControl === 'fixed') return null;
  return finite(hp.targetL0);
}

export function comparisonRows(variants: VariantReport[]): ComparisonRow[] {
  return variants.map((v) => {
    const core = v.metrics.core as Record<string, unknown> | null;
    const l0 = finite(at(core, 'eval_result_metrics.sparsity.l0'));
    const targetL0 = targetL0Of(v);
    const l0Error = l0 !== null && targetL0 ? (l0 - targetL0) / targetL0 : null;
    const metrics: ComparisonRow['metrics'] = {};
    for (const [id, family, path] of FRONT_METRICS) {
      const output = v.metrics[family] as Record<string, unknown> | null;
      const interval = at(output, `eval_result_uncertainty.intervals.${id}`) as Interval | undefined;
      metrics[id] = {
        value: finite(at(output, `eval_result_metrics.${path}`)),
        interval: interval && finite(interval.low) !== null && finite(interval.high) !== null ? { low: interval.low, high: interval.high } : null,
      };
    }
    return { label: v.label, variant: v.variant, seed: finite(v.hyperparameters.seed), targetL0, l0, l0Error, matched: l0Error === null ? null : Math.abs(l0Error) <= L0_TOLERANCE, metrics };
  });
}

function cell(m: { value: number | null; interval: Interval | null }, digits: number): string {
  if (m.value === null) return '<td class="num"><span class="na">—</span></td>';
  const ci = m.interval ? `<br><small>[${formatNumber(m.interval.low, digits)}, ${formatNumber(m.interval.high, digits)}]</small>` : '';
  return `<td class="num" data-value="${m.value}">${formatNumber(m.value, digits)}${ci}</td>`;
}

/** The matched-sparsity table: target and measured L0 first, then the metrics with their intervals. */
export function comparisonHtml(rows: ComparisonRow[]): string {
  const head = `<tr><th>SAE</th><th>architecture</th><th>target L0</th><th>measured L0</th><th>vs target</th>${FRONT_METRICS.map(([, , , label]) => `<th>${h(label)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r) => {
      const mark = r.matched === null ? '' : r.matched ? ' ✓' : ' ✗';
      const error = r.l0Error === null ? '—' : `${r.l0Error >= 0 ? '+' : ''}${(100 * r.l0Error).toFixed(1)}%${mark}`;
      return `<tr data-sae="${h(r.label)}"><th>${h(r.label)}</th><td>${h(r.variant)}</td><td class="num" data-target-l0="${r.targetL0 ?? ''}">${r.targetL0 === null ? '—' : formatNumber(r.targetL0, 4)}</td><td class="num" data-l0="${r.l0 ?? ''}">${r.l0 === null ? '—' : formatNumber(r.l0, 4)}</td><td class="num${r.matched === false ? ' off' : ''}">${error}</td>${FRONT_METRICS.map(([id]) => cell(r.metrics[id], 4)).join('')}</tr>`;
    })
    .join('\n');
  const off = rows.filter((r) => r.matched === false).map((r) => r.label);
  const verdict =
    off.length === 0
      ? `<p>Every SAE with a target reached it within ±${100 * L0_TOLERANCE}% (held-out L0 from the core eval).</p>`
      : `<p class="warn">Not matched (outside ±${100 * L0_TOLERANCE}% of the target): ${h(off.join(', '))}. Compare their metrics on the fronts below, not in the table.</p>`;
  return `<section id="comparison"><h2>Matched sparsity</h2>
${verdict}
<div class="scroll"><table class="metrics" id="comparison-table"><thead>${head}</thead><tbody>${body}</tbody></table></div>
<p class="note">Brackets: 95% intervals (bootstrap over held-out prompts for core and the splice, standard error over letters for absorption, binomial for probing). Explained variance rises with L0, so SAEs compare only at matched L0 or along the fronts.</p>
</section>`;
}

/** The paper's d_model (Gemma-2-2B): its L0 of 320 is a sparsity of 320 / 2304 per residual dimension. */
export const PAPER_D_MODEL = 2304;

/**
 * The paper's Table 1 values of `metric` for its sparse columns (TopK, JumpReLU, ATR at L0 320),
 * placed at the same L0 per residual dimension on this run's model (320 x dModel / 2304). The
 * dense Standard SAE (L0 8311) is a reference row, not a point on a front.
 */
export function paperFrontPoints(metric: string, dModel: number | null | undefined): { architecture: string; l0: number; value: number }[] {
  if (!dModel) return [];
  return (['topk', 'jumprelu', 'atr'] as const).flatMap((column) => {
    const value = PAPER_TABLE_1[metric]?.[column]?.value;
    const l0 = PAPER_TABLE_1.l0[column].value;
    return value === undefined ? [] : [{ architecture: `${column} (paper)`, l0: (l0 * dModel) / PAPER_D_MODEL, value }];
  });
}

/** One point per SAE (with its interval), a line through each architecture's per-L0 means, and the paper's values as diamonds. */
export function frontSpec(rows: ComparisonRow[], metric: string, title: string, dModel?: number | null): ChartSpec | null {
  const points = rows.flatMap((r) => {
    const m = r.metrics[metric];
    return r.l0 !== null && r.l0 > 0 && m?.value !== null && m?.value !== undefined
      ? [{ sae: r.label, architecture: r.variant, l0: r.l0, value: m.value, low: m.interval?.low ?? m.value, high: m.interval?.high ?? m.value }]
      : [];
  });
  if (points.length === 0) return null;
  // Mean over seeds of the same architecture and target: the front's line.
  const groups = new Map<string, { architecture: string; l0: number[]; value: number[] }>();
  for (const r of rows) {
    const m = r.metrics[metric];
    if (r.l0 === null || m?.value === null || m?.value === undefined) continue;
    const key = `${r.variant}|${r.targetL0 ?? r.label}`;
    const g = groups.get(key) ?? { architecture: r.variant, l0: [], value: [] };
    g.l0.push(r.l0);
    g.value.push(m.value);
    groups.set(key, g);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const line = [...groups.values()].map((g) => ({ architecture: g.architecture, l0: mean(g.l0), value: mean(g.value) }));
  const architectures = [...new Set(rows.map((r) => r.variant))];
  const color = { field: 'architecture', type: 'nominal', scale: variantColors(architectures), title: 'architecture' };
  const x = { field: 'l0', type: 'quantitative', title: 'L0 (held-out)', scale: { type: 'log' } };
  const paper = paperFrontPoints(metric, dModel);
  const paperLayer = paper.length
    ? [
        {
          data: { values: paper },
          mark: { type: 'point', shape: 'diamond', filled: true, color: 'black', size: 70 },
          encoding: { x, y: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'architecture' }, { field: 'value', format: '.3f' }, { field: 'l0', title: 'L0 at the paper sparsity', format: '.1f' }] },
        },
      ]
    : [];
  return {
    $schema: SCHEMA,
    title: {
      text: `${title} against L0`,
      subtitle: [
        'points: one SAE with its 95% interval; lines: mean over seeds per architecture and target',
        ...(paper.length ? ['black diamonds: the paper’s Table 1 (Gemma-2-2B, L0 320 of 2304) at the same L0 per dimension; another model, not measured here'] : []),
      ],
    },
    width: 420,
    height: 260,
    layer: [
      { data: { values: line }, mark: { type: 'line', opacity: 0.6 }, encoding: { x, y: { field: 'value', type: 'quantitative', title, scale: { zero: false } }, color, order: { field: 'l0' } } },
      { data: { values: points }, mark: { type: 'rule' }, encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: { x, y: { field: 'value', type: 'quantitative' }, color, tooltip: [{ field: 'sae' }, { field: 'l0', format: '.1f' }, { field: 'value', format: '.4f' }, { field: 'low', format: '.4f' }, { field: 'high', format: '.4f' }] },
      },
      ...paperLayer,
    ],
  };
}

function trace(t: CoefficientTrace | null | undefined): string {
  if (!t || t.steps === 0) return '—';
  const clamps = t.clampHitsLow + t.clampHitsHigh > 0 ? `; at clamp ${t.clampHitsLow} low / ${t.clampHitsHigh} high of ${t.steps} steps` : '; never at its clamps';
  return `${formatNumber(t.initial, 3)} → ${formatNumber(t.final, 3)} (range ${formatNumber(t.min, 3)}–${formatNumber(t.max, 3)}${clamps})`;
}

/** Dead latents at the end (a count, mechanisms.ts) with their share of the dictionary, the most at any step, and the window. */
function deadLatents(dead: { final: number; max: number; windowTokens: number }, dSae: number | undefined): string {
  const share = (n: number) => (dSae ? ` (${formatNumber((100 * n) / dSae, 2)}%)` : '');
  return `${dead.final}${share(dead.final)}, max ${dead.max}${share(dead.max)}; window ${Number(dead.windowTokens).toLocaleString('en-US')} tokens`;
}

/** What each mechanism did in each SAE's training (TrainSummary.mechanisms). */
export function mechanismsHtml(variants: VariantReport[]): string {
  const rows = variants
    .filter((v) => v.mechanisms)
    .map((v) => {
      const m = v.mechanisms as Record<string, any>;
      const s = m.sparsity ?? {};
      const dead = m.deadLatents ?? {};
      const auxk = m.auxk ? `coef ${formatNumber(m.auxk.coefficient, 3)}: active ${m.auxk.activeSteps} steps, max ${formatNumber(m.auxk.max, 3)}` : '—';
      const resample = m.resampling ? `${m.resampling.events} events, ${m.resampling.latents} latents (every ${m.resampling.every} steps, window ${m.resampling.historyWindowSteps})` : '—';
      const threshold = m.threshold ? (m.threshold.final < 0 ? `not started (from step ${m.threshold.startStep})` : `${formatNumber(m.threshold.final, 4)} from step ${m.threshold.startStep}`) : '—';
      return `<tr data-sae="${h(v.label)}"><th>${h(v.label)}</th><td>${h(String(s.control ?? '—'))}${s.targetL0 ? ` (target ${formatNumber(s.targetL0, 4)})` : ''}</td><td class="num">${s.lastTenthL0 === undefined ? '—' : formatNumber(s.lastTenthL0, 4)}</td><td>${trace(s.lambda)}</td><td>${trace(m.alpha)}</td><td>${h(auxk)}</td><td>${h(resample)}</td><td>${h(threshold)}</td><td class="num">${dead.final === undefined ? '—' : deadLatents(dead, v.dSae)}</td></tr>`;
    })
    .join('\n');
  if (!rows) return '';
  return `<section id="mechanisms"><h2>Mechanisms in training</h2>
<p>From every training step (not only the logged ones). Windows are sized to the run unless the spec gives absolute values (the <code>paper</code> preset).</p>
<div class="scroll"><table class="metrics" id="mechanisms-table"><thead><tr><th>SAE</th><th>sparsity control</th><th>train L0 (last tenth)</th><th>λ<sub>t</sub> (Eq. 4; the L1 or L0 coefficient; jumprelu quadratic: its fixed c)</th><th>α<sub>t</sub> (Eq. 3)</th><th>AuxK</th><th>resampling (Eq. 6)</th><th>BatchTopK threshold</th><th>dead latents (final)</th></tr></thead><tbody>${rows}</tbody></table></div>
</section>`;
}

/** Absorption per first letter: the model's residual-probe F1 and test words, then each SAE's absorption fraction. */
export function absorptionLettersHtml(variants: VariantReport[]): string {
  const withAbsorption = variants.filter((v) => v.metrics.absorption);
  if (withAbsorption.length === 0) return '';
  const first = withAbsorption[0].metrics.absorption as Record<string, any>;
  const f1 = (first.probe_f1 ?? {}) as Record<string, number>;
  const words = (first.words_per_letter ?? {}) as Record<string, { test: number }>;
  const letters = Object.keys(f1).sort();
  if (letters.length === 0) return '';
  const byLetter = (v: VariantReport) => new Map(((v.metrics.absorption as Record<string, any>).eval_result_details ?? []).map((d: any) => [d.first_letter, d]));
  const details = withAbsorption.map(byLetter);
  const threshold = first.eval_config?.min_GT_probe_f1 ?? 0.6;
  const body = letters
    .map((l) => {
      const passed = f1[l] > threshold;
      return `<tr class="${passed ? '' : 'off'}"><th>${h(l)}</th><td class="num">${formatNumber(f1[l], 3)}</td><td class="num">${words[l]?.test ?? '—'}</td>${details
        .map((d) => {
          const x = d.get(l) as { mean_absorption_fraction?: number } | undefined;
          return `<td class="num">${x?.mean_absorption_fraction === undefined ? '—' : formatNumber(x.mean_absorption_fraction, 3)}</td>`;
        })
        .join('')}</tr>`;
    })
    .join('\n');
  const deviations = [...new Set(withAbsorption.flatMap((v) => ((v.metrics.absorption as Record<string, any>).deviations ?? []) as string[]))];
  return `<section id="absorption-letters"><h2>Absorption per first letter</h2>
<p>Residual probe F1 is the model's (the same for every SAE); letters at or below ${formatNumber(threshold, 2)} (greyed) are left out of the means, as in SAEBench.</p>
${deviations.length ? `<p class="warn">Deviations: ${deviations.map(h).join('; ')}</p>` : ''}
<div class="scroll"><table class="metrics" id="absorption-letters-table"><thead><tr><th>letter</th><th>probe F1</th><th>test words</th>${withAbsorption.map((v) => `<th>${h(v.label)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table></div>
</section>`;
}
