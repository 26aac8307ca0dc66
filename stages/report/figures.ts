/**
 * Vega-Lite specs of the report's figures other than Figure 1: Figure 2 (metric comparison
 * across variants, with the paper's published values as markers), Figure 3 (sparsity over
 * training, sparsity distribution, per-position sparsity), per-position reconstruction, and the
 * training curves of each SAE (loss terms, L0, EV, dead %, lr, ATR's lambda_t and alpha_t).
 */
import type { TrainLogRow, VariantReport } from '../../schemas/report.js';
import { downsample, variantColors, type ChartSpec } from './charts.js';
import { paperMarker, type MetricRow } from './metric-catalog.js';
import { PAPER_REFERENCE } from './paper-values.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Training-log points drawn per series at most. */
export const MAX_CURVE_POINTS = 300;
/** Metrics shown in Figure 2 (ids of Table 1 rows), in panel order. */
export const FIGURE_2_METRICS = [
  'explained_variance',
  'explained_variance_legacy',
  'mse',
  'kl_div_score',
  'ce_loss_score',
  'l0',
  'l2_ratio',
  'relative_reconstruction_bias',
  'frac_alive',
  'mean_absorption_fraction_score',
  'sae_top_1_test_accuracy',
  'temporal_instability',
];
const DENSITY_BINS = { min: -7, max: 0, count: 35 };

/**
 * Figure 2: one panel per metric (a concat, so a panel without paper values has no empty
 * layer), a bar per variant, the paper's value as a black diamond on the matching architecture.
 */
export function figure2Spec(rows: MetricRow[], variants: VariantReport[]): ChartSpec | null {
  const labels = variants.map((v) => v.label);
  const x = { field: 'variant', type: 'nominal', sort: labels, title: null, scale: { domain: labels }, axis: { labelAngle: -40 } };
  const panels: ChartSpec[] = [];
  for (const id of FIGURE_2_METRICS) {
    const row = rows.find((r) => r.id === id);
    if (!row) continue;
    const measured = variants.flatMap((v) => {
      const value = row.values[v.label]?.value ?? null;
      return value === null ? [] : [{ variant: v.label, value }];
    });
    const paper = variants.flatMap((v) => {
      const p = paperMarker(row, v);
      return p === null ? [] : [{ variant: v.label, value: p }];
    });
    if (measured.length === 0 && paper.length === 0) continue;
    // L0 spans orders of magnitude (the paper's standard SAE: 8311 vs 320): log scale, bars
    // from a positive base (a log scale cannot hold the usual zero baseline).
    const log = id === 'l0' && [...measured, ...paper].every((d) => d.value > 0);
    const base = log ? 10 ** Math.floor(Math.log10(Math.min(...[...measured, ...paper].map((d) => d.value)))) : 0;
    const y = { field: 'value', type: 'quantitative', title: null, ...(log ? { scale: { type: 'log' } } : {}) };
    const layer: ChartSpec[] = [];
    if (measured.length > 0) {
      layer.push({
        data: { values: measured },
        mark: 'bar',
        encoding: { x, y, ...(log ? { y2: { datum: base } } : {}), color: { field: 'variant', type: 'nominal', scale: variantColors(labels), legend: null }, tooltip: [{ field: 'variant' }, { field: 'value', format: '.4~g' }] },
      });
    }
    if (paper.length > 0) {
      layer.push({
        data: { values: paper },
        mark: { type: 'point', shape: 'diamond', filled: true, color: 'black', size: 60 },
        encoding: { x, y, tooltip: [{ field: 'value', title: 'paper value', format: '.4~g' }] },
      });
    }
    panels.push({ title: { text: row.label, fontSize: 11 }, width: Math.max(120, labels.length * 26), height: 120, layer });
  }
  if (panels.length === 0) return null;
  return {
    $schema: SCHEMA,
    concat: panels,
    columns: 4,
    title: { text: 'Figure 2 shape — metrics across variants', subtitle: `black diamonds: values published by the ${PAPER_REFERENCE}, not measured here` },
  };
}

/** Figure 3: L0 over training, distribution of latent densities, L0 per position. */
export function figure3Spec(variants: VariantReport[]): ChartSpec | null {
  const labels = variants.map((v) => v.label);
  const color = { field: 'variant', type: 'nominal', scale: variantColors(labels), title: 'variant' };
  const panels: Record<string, unknown>[] = [];
  const training = variants.flatMap((v) =>
    downsample(v.trainingLog.filter((r) => typeof r.l0 === 'number' && r.l0 > 0), MAX_CURVE_POINTS).map((r) => ({ variant: v.label, step: r.step, l0: r.l0 })),
  );
  if (training.length > 0) {
    panels.push({
      title: 'Sparsity over training',
      width: 260,
      height: 180,
      data: { values: training },
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y: { field: 'l0', type: 'quantitative', title: 'L0 (batch)', scale: { type: 'log' } }, color },
    });
  }
  const density = variants.flatMap((v) => densityHistogram(v).map((d) => ({ variant: v.label, ...d })));
  if (density.length > 0) {
    panels.push({
      title: 'Sparsity distribution (latents by density)',
      width: 260,
      height: 180,
      data: { values: density },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.2 },
      encoding: { x: { field: 'log10Density', type: 'quantitative', title: 'log10 firing density' }, y: { field: 'latents', type: 'quantitative', title: 'latents' }, color },
    });
  }
  const perPosition = variants.flatMap((v) =>
    v.temporal ? v.temporal.positions.map((p, i) => ({ variant: v.label, position: p, l0: v.temporal!.perPosition.l0[i] })).filter((d) => d.l0 !== null) : [],
  );
  if (perPosition.length > 0) {
    panels.push({
      title: 'Sparsity per position',
      width: 260,
      height: 180,
      data: { values: perPosition },
      mark: { type: 'line', strokeWidth: 1.2, point: false },
      encoding: { x: { field: 'position', type: 'quantitative', title: 'position' }, y: { field: 'l0', type: 'quantitative', title: 'L0' }, color },
    });
  }
  if (panels.length === 0) return null;
  return { $schema: SCHEMA, title: 'Figure 3 shape — sparsity analysis', hconcat: panels } as ChartSpec;
}

/** Histogram of log10 density over alive latents; dead latents are counted in the table, not here. */
export function densityHistogram(v: VariantReport): { log10Density: number; latents: number }[] {
  if (!v.featureDensity || v.featureDensity.length === 0) return [];
  const { min, max, count } = DENSITY_BINS;
  const width = (max - min) / count;
  const counts = new Array<number>(count).fill(0);
  for (const d of v.featureDensity) {
    if (!(d > 0)) continue;
    const bin = Math.min(count - 1, Math.max(0, Math.floor((Math.log10(d) - min) / width)));
    counts[bin]++;
  }
  return counts.map((latents, i) => ({ log10Density: min + i * width, latents }));
}

/** Reconstruction per position (explained variance and MSE), all variants. */
export function perPositionSpec(variants: VariantReport[]): ChartSpec | null {
  const labels = variants.map((v) => v.label);
  const values = variants.flatMap((v) =>
    v.temporal ? v.temporal.positions.map((p, i) => ({ variant: v.label, position: p, ev: v.temporal!.perPosition.explained_variance[i], mse: v.temporal!.perPosition.mse[i] })) : [],
  );
  if (values.length === 0) return null;
  const color = { field: 'variant', type: 'nominal', scale: variantColors(labels), title: 'variant' };
  const panel = (field: string, title: string) => ({
    width: 300,
    height: 170,
    transform: [{ filter: `datum.${field} != null` }],
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: { x: { field: 'position', type: 'quantitative' }, y: { field, type: 'quantitative', title, scale: { zero: false } }, color },
  });
  return {
    $schema: SCHEMA,
    title: 'Reconstruction per position',
    data: { values },
    hconcat: [panel('ev', 'explained variance (pooled)'), panel('mse', 'MSE')],
  } as ChartSpec;
}

/** Loss-term keys the trainer writes flat into metrics.jsonl (stages/train/variants: StepOutputs.terms). */
export const LOSS_TERM_KEYS = ['mse', 'l1', 'aux_mse', 'auxk', 'l0_penalty', 'temporal'];

/** Loss terms of a row: its `terms` object, else flat `loss_<term>` keys, else the known flat term keys. */
export function lossTerms(row: TrainLogRow): Record<string, number> {
  if (row.terms) return row.terms;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v !== 'number') continue;
    if (k.startsWith('loss_')) out[k.slice(5)] = v;
    else if (LOSS_TERM_KEYS.includes(k)) out[k] = v;
  }
  return out;
}

/** Training curves of one SAE: loss terms (log), L0 (with ATR's target), EV, dead %, lr, lambda_t, alpha_t. */
export function trainingCurvesSpec(v: VariantReport): ChartSpec | null {
  const rows = downsample(v.trainingLog, MAX_CURVE_POINTS);
  if (rows.length === 0) return null;
  const losses = rows.flatMap((r) => {
    const out = Object.entries(lossTerms(r)).map(([term, value]) => ({ step: r.step, term, value }));
    if (typeof r.loss === 'number') out.push({ step: r.step, term: 'total', value: r.loss });
    return out.filter((d) => d.value > 0 && Number.isFinite(d.value));
  });
  const panels: Record<string, unknown>[] = [];
  if (losses.length > 0) {
    panels.push({
      title: 'Loss terms',
      data: { values: losses },
      mark: { type: 'line', strokeWidth: 1.1 },
      encoding: { x: stepAxis(), y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'loss' }, color: { field: 'term', type: 'nominal', title: 'term' } },
      width: 250,
      height: 150,
    });
  }
  const target = typeof v.hyperparameters.targetL0 === 'number' ? v.hyperparameters.targetL0 : null;
  const scalar: [string, string][] = [
    ['l0', 'L0'],
    ['explained_variance', 'explained variance'],
    ['dead_pct', 'dead latents (%)'],
    ['lr', 'learning rate'],
    ['lambda_t', 'lambda_t (Eq. 4)'],
    ['alpha_t', 'alpha_t (Eq. 3)'],
    ['grad_norm', 'gradient norm (before clipping)'],
    ['threshold', 'threshold (batchtopk)'],
    ['tokens_per_s', 'tokens/s'],
  ];
  for (const [key, title] of scalar) {
    const values = rows.filter((r) => typeof r[key] === 'number' && Number.isFinite(r[key] as number)).map((r) => ({ step: r.step, value: r[key] as number }));
    if (values.length === 0) continue;
    const line = { mark: { type: 'line', strokeWidth: 1.1, color: '#4c78a8' }, encoding: { x: stepAxis(), y: { field: 'value', type: 'quantitative', title, scale: { zero: false } } } };
    const layer: Record<string, unknown>[] = [line];
    if (key === 'l0' && target !== null) {
      layer.push({ data: { values: [{ target }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#e45756' }, encoding: { y: { field: 'target', type: 'quantitative' } } });
    }
    panels.push({ title, data: { values }, layer, width: 250, height: 150 });
  }
  return { $schema: SCHEMA, title: `Training curves — ${v.label} (${v.variant})`, concat: panels, columns: 3, resolve: { scale: { color: 'independent' } } } as ChartSpec;
}

function stepAxis(): Record<string, unknown> {
  return { field: 'step', type: 'quantitative', title: 'step' };
}
