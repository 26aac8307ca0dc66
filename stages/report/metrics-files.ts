/**
 * The report's machine-readable outputs: metrics.json (every variant's eval JSON as given,
 * variants as keys like the run's combined metrics.json, plus the Table 1 rows with the path
 * each value was read from) and metrics.csv (Table 1, variants and paper values as columns),
 * and the Markdown summary.
 */
import type { ReportInput } from '../../schemas/report.js';
import { csvField, formatDuration, formatNumber, mdCell } from './format.js';
import type { MetricRow } from './metric-catalog.js';
import { PAPER_COLUMN_LABELS, PAPER_COLUMNS, PAPER_NOTES, PAPER_REFERENCE } from './paper-values.js';

export const REPORT_METRICS_SCHEMA_VERSION = 1;

export interface ReportMetricsJson {
  schemaVersion: number;
  runId: string;
  generatedAt: string;
  /** Per variant: its architecture and eval JSON per family, exactly as given. */
  variants: Record<string, { variant: string } & ReportInput['variants'][number]['metrics']>;
  /** Table 1 rows; `values[label].path` is a dotted path inside `variants[label]`. */
  table1: MetricRow[];
  paperReference: string;
}

export function buildMetricsJson(input: ReportInput, rows: MetricRow[]): ReportMetricsJson {
  return {
    schemaVersion: REPORT_METRICS_SCHEMA_VERSION,
    runId: input.run.runId,
    generatedAt: input.run.generatedAt,
    variants: Object.fromEntries(input.variants.map((v) => [v.label, { variant: v.variant, ...v.metrics }])),
    table1: rows,
    paperReference: PAPER_REFERENCE,
  };
}

/** Table 1 as CSV: one line per metric; empty cells where nothing was measured or published. */
export function buildMetricsCsv(input: ReportInput, rows: MetricRow[]): string {
  const labels = input.variants.map((v) => v.label);
  const header = ['metric', 'label', 'family', ...labels, ...PAPER_COLUMNS.map((c) => `paper_${c}`)];
  const lines = rows.map((r) => [r.id, r.label, r.family, ...labels.map((l) => r.values[l]?.value ?? null), ...PAPER_COLUMNS.map((c) => r.paper[c]?.value ?? null)].map(csvField).join(','));
  return [header.map(csvField).join(','), ...lines].join('\n') + '\n';
}

/** summary.md: run facts, Table 1 with the paper's columns, cluster choices, where the figures are. */
export function buildSummaryMarkdown(input: ReportInput, rows: MetricRow[]): string {
  const r = input.run;
  const labels = input.variants.map((v) => v.label);
  const out: string[] = [`# temporal-sae run report: ${r.runId}`, ''];
  out.push(`- Model: ${r.model.source}${r.model.architecture ? ` (${r.model.architecture})` : ''}, block ${r.model.layer}`);
  out.push(`- Device: ${r.device}`);
  out.push(`- Tokens: ${Object.entries(r.tokens).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : '—'}`).join(', ')}`);
  out.push(`- Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
  // Stage durations overlap (parallel activities) and include queueing, so their sum says little;
  // the span from the first start to the last finish is the run's wall time.
  const starts = r.stages.map((st) => Date.parse(st.startedAt ?? '')).filter(Number.isFinite);
  const ends = r.stages.map((st) => Date.parse(st.finishedAt ?? '')).filter(Number.isFinite);
  const wall = starts.length && ends.length ? (Math.max(...ends) - Math.min(...starts)) / 1000 : null;
  out.push(`- Wall time: ${wall === null ? '—' : formatDuration(wall)} from the first stage's start to the last one's end, ${r.stages.length} stages`);
  for (const l of r.temporalLinks) out.push(`- Temporal UI: [${l.label}](${l.url})`);
  out.push('', '## Table 1 shape', '');
  const paperHeads = PAPER_COLUMNS.map((c) => `paper: ${PAPER_COLUMN_LABELS[c]}`);
  out.push(`| metric | ${[...labels, ...paperHeads].map(mdCell).join(' | ')} |`);
  out.push(`|---|${[...labels, ...paperHeads].map(() => '---:').join('|')}|`);
  for (const row of rows) {
    const measured = labels.map((l) => {
      const cell = row.values[l];
      return cell?.value === null || cell === undefined ? (cell?.note ? `— (${cell.note})` : '—') : formatNumber(cell.value, row.digits);
    });
    const paper = PAPER_COLUMNS.map((c) => (row.paper[c] ? `${formatNumber(row.paper[c]!.value, row.digits)} (${row.paper[c]!.source})` : ''));
    out.push(`| ${mdCell(row.label)} | ${[...measured, ...paper].map(mdCell).join(' | ')} |`);
  }
  out.push('', `Paper columns are values published by the ${PAPER_REFERENCE}; they were not measured here.`, '');
  for (const n of PAPER_NOTES) out.push(`- ${n}`);
  out.push('', '## Temporal clusters', '');
  for (const v of input.variants) {
    if (!v.temporal) out.push(`- ${v.label}: temporal analysis did not run`);
    else out.push(`- ${v.label}: k = ${v.temporal.nClusters} chosen by ${v.temporal.criterion.name}${typeof v.temporal.criterion.value === 'number' ? ` (${formatNumber(v.temporal.criterion.value)})` : ''} over ${v.temporal.features.length} features, ${v.temporal.linkageMethod} linkage`);
  }
  out.push('', '## Figures and feature browser', '');
  out.push('Open `index.html` (self-contained, works offline) for Figures 1-3, the training curves and the feature browser.');
  for (const v of input.variants) {
    out.push(`- ${v.label}: ${v.features ? `${v.features.latents.length} latents browsable (${v.features.aliveLatents} of ${v.features.dSae} alive on ${v.features.tokensScanned.toLocaleString('en-US')} tokens)` : 'no feature-browser data'}`);
  }
  return out.join('\n') + '\n';
}
