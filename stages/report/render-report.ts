/**
 * The report stage: from a ReportInput (run facts, eval JSON per variant, training logs,
 * temporal analysis, feature-browser data) writes into `outDir`
 *   index.html    one self-contained page (Table 1, Figures 1-3, training curves, feature browser)
 *   summary.md    run facts, Table 1 with the paper's columns, cluster choices
 *   metrics.json  every variant's eval JSON plus the Table 1 rows with their source paths
 *   metrics.csv   Table 1
 * Figures are Vega-Lite specs rendered to SVG in Node (charts.ts). The stage is a pure function
 * of its input and each file is written atomically, so a retried attempt simply writes again
 * (there is no partial state worth resuming).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReportInput, type ReportInputRaw, type VariantReport } from '../../schemas/report.js';
import { writeFileAtomic } from '../../lib/core/atomic-fs.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { badInput, TsaeError } from '../../lib/core/errors.js';
import { packBrowserPayload } from './browser-payload.js';
import { countMarks, renderChart, type ChartSpec } from './charts.js';
import { figure1Spec } from './figure-temporal.js';
import { figure2Spec, figure3Spec, perPositionSpec, trainingCurvesSpec } from './figures.js';
import { figureHtml, runFactsHtml, table1Html } from './html-sections.js';
import { renderPage } from './html-page.js';
import { buildMetricRows } from './metric-catalog.js';
import { absorptionLettersHtml, comparisonHtml, comparisonRows, FRONT_METRICS, frontSpec, mechanismsHtml, type ComparisonRow } from './comparison.js';
import { buildMetricsCsv, buildMetricsJson, buildSummaryMarkdown } from './metrics-files.js';

export const REPORT_FILES = ['index.html', 'summary.md', 'metrics.json', 'metrics.csv'] as const;

export interface ReportSummary {
  files: { name: string; bytes: number }[];
  totalBytes: number;
  variants: number;
  /** Figures rendered (with SVG) and skipped for lack of data. */
  figures: { id: string; marks: number }[];
  missingFigures: string[];
  browsableLatents: number;
  chartWarnings: number;
  durationMs: number;
}

interface PlannedFigure {
  section: string;
  id: string;
  title: string;
  caption: string;
  spec: ChartSpec | null;
  missing: string;
}

/** Parses the input, renders every figure and writes the four report files into outDir. */
export async function writeReport(raw: ReportInputRaw | ReportInput, outDir: string, ctx: StageContext): Promise<ReportSummary> {
  const started = performance.now();
  const input = parseReportInput(raw);
  const rows = buildMetricRows(input.variants);
  const comparison = comparisonRows(input.variants);
  const planned = planFigures(input, rows, comparison);
  const rendered = new Map<string, { svg: string | null; marks: number }>();
  let warnings = 0;
  for (const [i, f] of planned.entries()) {
    throwIfAborted(ctx.signal);
    ctx.onProgress({ stage: 'report', item: f.id, done: i, total: planned.length, unit: 'figures' });
    if (!f.spec) {
      rendered.set(f.id, { svg: null, marks: 0 });
      continue;
    }
    const { svg, warnings: w } = await renderChart(f.id, f.spec);
    for (const message of w) ctx.log.warn('chart warning', { chart: f.id, message });
    warnings += w.length;
    rendered.set(f.id, { svg, marks: countMarks(svg) });
  }
  ctx.onProgress({ stage: 'report', item: 'write', done: planned.length, total: planned.length, unit: 'figures' });

  const sectionIds = [...new Set(planned.map((f) => f.section))];
  const html = renderPage({
    runId: input.run.runId,
    generatedAt: input.run.generatedAt,
    runFacts: runFactsHtml(input),
    table1: comparisonHtml(comparison) + table1Html(rows, input.variants) + mechanismsHtml(input.variants) + absorptionLettersHtml(input.variants),
    sections: sectionIds.map((id) => ({
      id,
      title: SECTIONS[id].title,
      intro: SECTIONS[id].intro,
      figures: planned
        .filter((f) => f.section === id)
        .map((f) => figureHtml({ id: f.id, title: f.title, caption: f.caption, svg: rendered.get(f.id)!.svg, missing: f.missing }))
        .join('\n'),
    })),
    browser: packBrowserPayload(input.variants),
  });
  const contents: Record<(typeof REPORT_FILES)[number], string> = {
    'index.html': html,
    'summary.md': buildSummaryMarkdown(input, rows),
    'metrics.json': JSON.stringify(buildMetricsJson(input, rows), null, 2) + '\n',
    'metrics.csv': buildMetricsCsv(input, rows),
  };
  const files: ReportSummary['files'] = [];
  for (const name of REPORT_FILES) {
    await writeFileAtomic(join(outDir, name), contents[name]);
    files.push({ name, bytes: Buffer.byteLength(contents[name]) });
  }
  const summary: ReportSummary = {
    files,
    totalBytes: files.reduce((s, f) => s + f.bytes, 0),
    variants: input.variants.length,
    figures: planned.filter((f) => rendered.get(f.id)!.svg).map((f) => ({ id: f.id, marks: rendered.get(f.id)!.marks })),
    missingFigures: planned.filter((f) => !rendered.get(f.id)!.svg).map((f) => f.id),
    browsableLatents: input.variants.reduce((s, v) => s + (v.features?.latents.length ?? 0), 0),
    chartWarnings: warnings,
    durationMs: performance.now() - started,
  };
  ctx.log.info('report written', { outDir, bytes: summary.totalBytes, figures: summary.figures.length, missing: summary.missingFigures, ms: Math.round(summary.durationMs) });
  return summary;
}

/**
 * For `tsae report`: reads a ReportInput saved as JSON (e.g. report-input.json beside the
 * report) and writes the report into outDir.
 */
export async function writeReportFromFile(inputPath: string, outDir: string, ctx: StageContext): Promise<ReportSummary> {
  let text: string;
  try {
    text = await readFile(inputPath, 'utf8');
  } catch (error) {
    throw new TsaeError('NOT_FOUND', `Report input ${inputPath} cannot be read: ${(error as Error).message}`, { cause: error, details: { file: inputPath } });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw badInput(`Report input ${inputPath} is not valid JSON: ${(error as Error).message}`, { file: inputPath });
  }
  return writeReport(raw as ReportInputRaw, outDir, ctx);
}

/** Validates a ReportInput, naming every offending field. */
export function parseReportInput(raw: unknown): ReportInput {
  const parsed = ReportInput.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw badInput(`Invalid report input: ${issues.join('; ')}${parsed.error.issues.length > 10 ? ` (+${parsed.error.issues.length - 10} more)` : ''}`, { issues });
}

const SECTIONS: Record<string, { title: string; intro: string }> = {
  fronts: { title: 'Pareto fronts', intro: 'Reconstruction and model-behaviour preservation against sparsity: a method is better when its front lies above another at the same L0.' },
  fig2: { title: 'Figure 2 shape', intro: 'Each panel is one metric; bars are this run, black diamonds the paper’s published value for the matching architecture.' },
  fig1: { title: 'Figure 1 shape', intro: 'Hierarchical clustering of feature position-profiles (temporal eval); the number of clusters is chosen by the stated criterion, not fixed.' },
  fig3: { title: 'Figure 3 shape', intro: 'Sparsity over training, the distribution of latent firing densities, and sparsity and reconstruction per sequence position.' },
  training: { title: 'Training curves', intro: 'From each trainer’s metrics.jsonl (downsampled for drawing). ATR panels show the adaptive coefficients lambda_t (Eq. 4) and alpha_t (Eq. 3).' },
};

function planFigures(input: ReportInput, rows: ReturnType<typeof buildMetricRows>, comparison: ComparisonRow[]): PlannedFigure[] {
  const v = input.variants;
  const out: PlannedFigure[] = [
    ...FRONT_METRICS.filter(([, family]) => family === 'core').map(([id, , , label]) => ({
      section: 'fronts',
      id: `front-${id}`,
      title: `${label} against L0`,
      caption: 'Each point is one SAE at its held-out L0, with its 95% bootstrap interval over prompts; lines join the per-target means over seeds of one architecture. Only points at the same L0 compare directly. Black diamonds: the paper’s Table 1 values for TopK, JumpReLU and ATR, placed at the same L0 per residual dimension (320 / 2304), from another model.',
      spec: frontSpec(comparison, id, label, input.run.model.dModel),
      missing: `No SAE has both an L0 and a ${label}.`,
    })),
    { section: 'fig2', id: 'fig2-metrics', title: 'Metric comparison across variants', caption: 'Bars: measured here. Diamonds: the paper’s values (Table 1 or text), where the paper reports the architecture.', spec: figure2Spec(rows, v), missing: 'No metrics were given.' },
  ];
  for (const variant of v) out.push(fig1(variant));
  out.push(
    { section: 'fig3', id: 'fig3-sparsity', title: 'Sparsity analysis', caption: 'Left: batch L0 over training (log scale). Centre: alive latents by log10 firing density on the eval tokens. Right: mean L0 per position.', spec: figure3Spec(v), missing: 'No training logs, densities or per-position data were given.' },
    { section: 'fig3', id: 'fig3-per-position', title: 'Reconstruction per position', caption: 'Explained variance (pooled) and MSE at each sequence position, from the temporal eval.', spec: perPositionSpec(v), missing: 'The temporal eval did not run.' },
  );
  for (const variant of v) {
    out.push({ section: 'training', id: `training-${variant.label}`, title: `Training curves of ${variant.label}`, caption: 'Loss terms (log scale), L0 (dashed: target L0 when the variant has one), explained variance, dead latents, learning rate and the variant’s adaptive coefficients.', spec: trainingCurvesSpec(variant), missing: `No metrics.jsonl rows for ${variant.label}.` });
  }
  return out;
}

function fig1(variant: VariantReport): PlannedFigure {
  const t = variant.temporal;
  return {
    section: 'fig1',
    id: `fig1-${variant.label}`,
    title: `Temporal feature clusters of ${variant.label}`,
    caption: t
      ? `Top: dendrogram (${t.linkageMethod}) coloured by the ${t.nClusters} flat clusters chosen by ${t.criterion.name}; merges above the cut in grey. Bottom: ${t.activityMeasure} per position, columns in leaf order, each scaled to its maximum.`
      : '',
    spec: t && t.features.length > 0 ? figure1Spec(variant.label, t) : null,
    missing: `The temporal analysis did not run for ${variant.label}.`,
  };
}
