/**
 * Dendrogram layout from a SciPy linkage matrix, for Figure 1 (top: dendrogram, bottom: the
 * feature x position heatmap with columns in the dendrogram's leaf order). Follows SciPy's
 * `dendrogram` conventions: Z[i, 0] is drawn left of Z[i, 1], a node sits midway between its
 * children at the merge distance. Large trees are truncated like `truncate_mode='lastp'`: only
 * the last p - 1 merges are drawn and every subtree below them becomes one leaf, whose heatmap
 * column is the mean profile of its member features.
 */
import { badInput } from '../../lib/core/errors.js';

export interface DendrogramLeaf {
  /** Column in the leaf order (x = slot + 0.5). */
  slot: number;
  /** Row indices (into the clustered features) of the features this leaf stands for. */
  members: number[];
  /** Flat cluster id shared by all members, or null when they differ. */
  cluster: number | null;
}

export interface DendrogramSegment {
  x: number;
  x2: number;
  y: number;
  y2: number;
  cluster: number | null;
}

export interface DendrogramLayout {
  leaves: DendrogramLeaf[];
  segments: DendrogramSegment[];
  /** Height of the root merge. */
  maxDistance: number;
}

/**
 * Lays out a linkage matrix Z ([n-1][4], SciPy format) over n points with at most `maxLeaves`
 * leaves. `clusters` [n] are the flat cluster ids used for colouring.
 */
export function layoutDendrogram(Z: number[][], n: number, clusters: number[], maxLeaves: number): DendrogramLayout {
  if (n === 0) return { leaves: [], segments: [], maxDistance: 0 };
  if (Z.length !== Math.max(0, n - 1)) throw badInput(`linkage has ${Z.length} rows; ${n} features need ${n - 1}`, { field: 'temporal.linkage' });
  const nodeCluster = clusterPerNode(Z, n, clusters);
  const p = Math.max(1, Math.min(maxLeaves, n));
  const firstKept = n - 1 - (p - 1); // rows firstKept..n-2 are drawn; lower nodes are contracted leaves
  const isDrawn = (node: number) => node >= n + firstKept;

  const leaves: DendrogramLeaf[] = [];
  const segments: DendrogramSegment[] = [];
  const x = new Map<number, number>();
  const y = new Map<number, number>();
  // Iterative post-order traversal from the root, left child first.
  const root = n === 1 ? 0 : 2 * n - 2;
  const stack: [number, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [node, expanded] = stack.pop()!;
    if (!isDrawn(node)) {
      leaves.push({ slot: leaves.length, members: membersOf(Z, n, node), cluster: nodeCluster[node] });
      x.set(node, leaves.length - 0.5);
      y.set(node, 0);
      continue;
    }
    const [a, b, dist] = Z[node - n];
    if (!expanded) {
      stack.push([node, true], [b, false], [a, false]);
      continue;
    }
    const xa = x.get(a)!;
    const xb = x.get(b)!;
    const c = nodeCluster[node];
    segments.push({ x: xa, x2: xa, y: y.get(a)!, y2: dist, cluster: nodeCluster[a] ?? c });
    segments.push({ x: xb, x2: xb, y: y.get(b)!, y2: dist, cluster: nodeCluster[b] ?? c });
    segments.push({ x: xa, x2: xb, y: dist, y2: dist, cluster: c });
    x.set(node, (xa + xb) / 2);
    y.set(node, dist);
  }
  return { leaves, segments, maxDistance: n > 1 ? Z[n - 2][2] : 0 };
}

/** Cluster id per node (points 0..n-1, merges n..2n-2): the shared id of its members, else null. */
function clusterPerNode(Z: number[][], n: number, clusters: number[]): (number | null)[] {
  const out: (number | null)[] = new Array(2 * n - 1).fill(null);
  for (let i = 0; i < n; i++) out[i] = clusters[i] ?? null;
  Z.forEach(([a, b], i) => {
    const ca = out[a];
    out[n + i] = ca !== null && ca === out[b] ? ca : null;
  });
  return out;
}

/** Original points under a node, in left-to-right order. */
function membersOf(Z: number[][], n: number, node: number): number[] {
  const out: number[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    if (cur < n) out.push(cur);
    else stack.push(Z[cur - n][1], Z[cur - n][0]);
  }
  return out;
}

/**
 * Heatmap cells for the leaves: each leaf's mean activity profile over its members, binned to
 * at most `maxBins` position bins and scaled by the leaf's maximum (so the position pattern of
 * weak and strong features is equally visible; the caption says so).
 */
export function leafProfiles(
  leaves: DendrogramLeaf[],
  activity: number[][],
  positions: number[],
  maxBins: number,
): { bins: { start: number; end: number }[]; cells: { leaf: number; bin: number; value: number; raw: number }[] } {
  const binSize = Math.max(1, Math.ceil(positions.length / maxBins));
  const bins: { start: number; end: number }[] = [];
  for (let s = 0; s < positions.length; s += binSize) bins.push({ start: positions[s], end: positions[Math.min(positions.length, s + binSize) - 1] });
  const cells: { leaf: number; bin: number; value: number; raw: number }[] = [];
  for (const leaf of leaves) {
    const profile = bins.map((_, bi) => {
      let sum = 0;
      let count = 0;
      for (const m of leaf.members) {
        const row = activity[m];
        for (let p = bi * binSize; p < Math.min(positions.length, (bi + 1) * binSize); p++) {
          sum += row[p];
          count++;
        }
      }
      return count > 0 ? sum / count : 0;
    });
    const max = Math.max(...profile);
    profile.forEach((raw, bin) => cells.push({ leaf: leaf.slot, bin, raw, value: max > 0 ? raw / max : 0 }));
  }
  return { bins, cells };
}
