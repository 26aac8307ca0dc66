/**
 * Vega-Lite specs compiled to static SVG in Node (vega 6 + vega-lite 6, renderer 'none', no
 * canvas): the report's figures are drawn by a maintained charting library, and the HTML
 * carries only the resulting SVG, so it opens offline with no script needed for the figures.
 * Text widths are estimated by Vega without a canvas, which only affects label spacing.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { TsaeError } from '../../lib/core/errors.js';

/**
 * A Vega-Lite spec as plain JSON. Specs are built as data (facets, layers, concats) and
 * validated by Vega-Lite when compiled; its TypeScript union types are too strict to build
 * them generically.
 */
export type ChartSpec = Record<string, unknown>;

/** Shared look of all figures. */
export const CHART_CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 10, titleFontSize: 11, gridColor: '#eee' },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13, anchor: 'start' },
  range: { category: ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac'] },
};

/** Palette for variants, fixed by their order so every figure colours a variant alike. */
export function variantColors(labels: string[]): { domain: string[]; range: string[] } {
  const palette = CHART_CONFIG.range.category;
  return { domain: labels, range: labels.map((_, i) => palette[i % palette.length]) };
}

export interface RenderedSvg {
  svg: string;
  /** Warnings of Vega-Lite and Vega (dropped encodings, bad data), for the stage log. */
  warnings: string[];
}

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string in Node.
 * Throws a TsaeError naming the chart when Vega-Lite or Vega rejects the spec.
 */
export async function renderChart(id: string, spec: ChartSpec): Promise<RenderedSvg> {
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, args) => warnings.push(args.map(String).join(' ')));
  let view: vega.View | null = null;
  try {
    const withConfig = { ...spec, config: { ...CHART_CONFIG, ...((spec.config as object | undefined) ?? {}) } };
    const vgSpec = compile(withConfig as unknown as TopLevelSpec, { logger }).spec;
    view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logger });
    const svg = scopeSvgIds(await view.toSVG(), id);
    return { svg, warnings };
  } catch (error) {
    throw new TsaeError('INTERNAL', `Chart '${id}' could not be rendered: ${(error as Error).message}`, { cause: error, details: { chart: id } });
  } finally {
    view?.finalize();
  }
}

/**
 * Renames the ids Vega gives gradients and clip paths (from a process-wide counter) to ids
 * scoped by the chart: the same input then gives the same bytes, and SVGs inlined side by side
 * in one page cannot collide.
 */
export function scopeSvgIds(svg: string, chartId: string): string {
  const prefix = `c-${chartId.replace(/[^A-Za-z0-9_-]/g, '_')}-`;
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) if (!ids.has(m[1])) ids.set(m[1], `${prefix}${ids.size}`);
  if (ids.size === 0) return svg;
  return svg.replace(/\bid="([^"]+)"|url\(#([^)]+)\)|href="#([^"]+)"/g, (whole, a: string | undefined, b: string | undefined, c: string | undefined) => {
    if (a !== undefined) return `id="${ids.get(a) ?? a}"`;
    if (b !== undefined) return ids.has(b) ? `url(#${ids.get(b)})` : whole;
    return ids.has(c!) ? `href="#${ids.get(c!)}"` : whole;
  });
}

/** Counts the data-mark items Vega drew (inside `role-mark` groups; axes and legends excluded). */
export function countMarks(svg: string): number {
  const groups = svg.match(/class="mark-(?:rect|line|rule|symbol|area|path|arc|trail)[^"]*role-mark[^"]*"[^>]*>[\s\S]*?<\/g>/g) ?? [];
  let marks = 0;
  for (const g of groups) marks += (g.match(/<(?:path|line|rect|circle)\b/g) ?? []).length;
  return marks;
}

/** Evenly spaced subset of rows (always keeping the last) so long logs stay light. */
export function downsample<T>(rows: T[], max: number): T[] {
  if (rows.length <= max) return rows;
  const out: T[] = [];
  const stride = (rows.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(rows[Math.round(i * stride)]);
  return out;
}
