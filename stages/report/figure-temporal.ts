/**
 * Figure 1 of the paper, per SAE: the dendrogram of feature clusters (top) over the feature x
 * position activity heatmap (bottom), columns in leaf order so each column sits under its
 * dendrogram leaf. Clusters are the temporal eval's flat clusters, with k chosen by its
 * criterion (atr-open-questions.md, item 9), never fixed to the paper's 5.
 */
import type { TemporalAnalysis } from '../../schemas/report.js';
import type { ChartSpec } from './charts.js';
import { layoutDendrogram, leafProfiles } from './dendrogram.js';

/** Columns drawn at most (larger trees are truncated like SciPy's lastp). */
export const FIGURE_1_MAX_LEAVES = 48;
/** Position bins drawn at most. */
export const FIGURE_1_MAX_POSITION_BINS = 64;

const COLUMN_PX = 12;

/** Vega-Lite spec of Figure 1 for one SAE. */
export function figure1Spec(label: string, t: TemporalAnalysis): ChartSpec {
  const layout = layoutDendrogram(t.linkage, t.features.length, t.clusters, FIGURE_1_MAX_LEAVES);
  const { bins, cells } = leafProfiles(layout.leaves, t.activity, t.positions, FIGURE_1_MAX_POSITION_BINS);
  const width = Math.max(240, layout.leaves.length * COLUMN_PX);
  const xScale = { domain: [0, layout.leaves.length], nice: false, zero: false };
  const clusterDomain = [...new Set(t.clusters)].sort((a, b) => a - b).map(String);
  const leafInfo = layout.leaves.map((l) => ({
    leaf: l.slot,
    features: l.members.length === 1 ? `latent ${t.features[l.members[0]]}` : `${l.members.length} latents`,
    cluster: l.cluster === null ? 'mixed' : String(l.cluster),
  }));
  const dendrogram = {
    title: `Dendrogram (${t.linkageMethod} linkage, ${t.features.length} features, k = ${t.nClusters} by ${t.criterion.name})`,
    width,
    height: 160,
    data: { values: layout.segments.map((s) => ({ ...s, cluster: s.cluster === null ? 'above cut' : String(s.cluster) })) },
    mark: { type: 'rule', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: xScale, axis: null },
      x2: { field: 'x2' },
      y: { field: 'y', type: 'quantitative', title: 'merge distance' },
      y2: { field: 'y2' },
      color: {
        field: 'cluster',
        type: 'nominal',
        title: 'cluster',
        scale: { domain: [...clusterDomain, 'above cut'], range: [...clusterPalette(clusterDomain.length), '#999999'] },
      },
    },
  };
  const heatmap = {
    title: `Feature x position activity (${t.activityMeasure}, each column scaled to its max)`,
    width,
    height: Math.min(320, Math.max(120, bins.length * 5)),
    data: { values: cells.map((c) => ({ ...c, x: c.leaf, x2: c.leaf + 1, pos: bins[c.bin].start, pos2: bins[c.bin].end + 1, ...leafInfo[c.leaf] })) },
    mark: { type: 'rect', aria: false },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: xScale, title: 'features (dendrogram leaf order)', axis: { labels: false, ticks: false } },
      x2: { field: 'x2' },
      y: { field: 'pos', type: 'quantitative', title: 'position', scale: { nice: false, zero: false, reverse: true } },
      y2: { field: 'pos2' },
      color: { field: 'value', type: 'quantitative', title: 'relative activity', scale: { scheme: 'viridis', domain: [0, 1] } },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Figure 1 shape — ${label}`,
    vconcat: [dendrogram, heatmap],
    resolve: { scale: { color: 'independent' } },
  } as ChartSpec;
}

function clusterPalette(n: number): string[] {
  const base = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d', '#ff9da6', '#17becf', '#bcbd22', '#8c564b'];
  return Array.from({ length: n }, (_, i) => base[i % base.length]);
}
