/**
 * Agglomerative clustering with SciPy's conventions, so our linkage matrices can be compared
 * with `scipy.cluster.hierarchy.linkage` row for row and drawn by any dendrogram code:
 *   Z: [n - 1, 4] rows (cluster a, cluster b, distance, size), a < b, sorted by distance,
 *   cluster ids 0..n-1 are points, n + i is the cluster formed at row i.
 * Built with the nearest-neighbour chain algorithm (as SciPy does for these methods) and the
 * Lance-Williams updates on Euclidean distances.
 */
export const LINKAGE_METHODS = ['ward', 'average', 'complete', 'single', 'weighted'] as const;
export type LinkageMethod = (typeof LINKAGE_METHODS)[number];

/** Index of pair (i, j), i < j, in a condensed distance vector over n points. */
export function condensedIndex(n: number, i: number, j: number): number {
  if (i > j) [i, j] = [j, i];
  return n * i - (i * (i + 1)) / 2 + (j - i - 1);
}

/** Condensed Euclidean distances between the rows of a [n, d] matrix (SciPy `pdist`). */
export function pairwiseDistances(points: Float32Array | Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < d; k++) {
        const diff = points[i * d + k] - points[j * d + k];
        acc += diff * diff;
      }
      out[p++] = Math.sqrt(acc);
    }
  }
  return out;
}

/** Linkage matrix [n - 1, 4] from a condensed distance vector (which is consumed). */
export function linkage(condensed: Float64Array, n: number, method: LinkageMethod): Float64Array {
  if (n < 2) return new Float64Array(0);
  const merges = nearestNeighbourChain(condensed, n, method);
  const order = Array.from({ length: n - 1 }, (_, i) => i);
  // Stable sort by distance, as SciPy's argsort(kind='mergesort').
  order.sort((a, b) => merges[a * 4 + 2] - merges[b * 4 + 2] || a - b);
  const Z = new Float64Array((n - 1) * 4);
  order.forEach((src, dst) => Z.set(merges.subarray(src * 4, src * 4 + 4), dst * 4));
  relabel(Z, n);
  return Z;
}

function nearestNeighbourChain(D: Float64Array, n: number, method: LinkageMethod): Float64Array {
  const Z = new Float64Array((n - 1) * 4);
  const size = new Float64Array(n).fill(1);
  const chain = new Int32Array(n);
  let chainLength = 0;
  for (let k = 0; k < n - 1; k++) {
    if (chainLength === 0) {
      chainLength = 1;
      for (let i = 0; i < n; i++) {
        if (size[i] > 0) {
          chain[0] = i;
          break;
        }
      }
    }
    let x = 0;
    let y = 0;
    let currentMin = Infinity;
    for (;;) {
      x = chain[chainLength - 1];
      if (chainLength > 1) {
        y = chain[chainLength - 2];
        currentMin = D[condensedIndex(n, x, y)];
      } else currentMin = Infinity;
      for (let i = 0; i < n; i++) {
        if (size[i] === 0 || i === x) continue;
        const dist = D[condensedIndex(n, x, i)];
        if (dist < currentMin) {
          currentMin = dist;
          y = i;
        }
      }
      if (chainLength > 1 && y === chain[chainLength - 2]) break;
      chain[chainLength++] = y;
    }
    chainLength -= 2;
    if (x > y) [x, y] = [y, x];
    const nx = size[x];
    const ny = size[y];
    Z.set([x, y, currentMin, nx + ny], k * 4);
    size[x] = 0;
    size[y] = nx + ny;
    for (let i = 0; i < n; i++) {
      const ni = size[i];
      if (ni === 0 || i === y) continue;
      const ix = condensedIndex(n, i, x);
      const iy = condensedIndex(n, i, y);
      D[iy] = lanceWilliams(method, D[ix], D[iy], currentMin, nx, ny, ni);
    }
  }
  return Z;
}

/** Distance from cluster i to the union of x and y (sizes nx, ny, ni), d_xy their distance. */
function lanceWilliams(method: LinkageMethod, dxi: number, dyi: number, dxy: number, nx: number, ny: number, ni: number): number {
  switch (method) {
    case 'ward': {
      const t = 1 / (nx + ny + ni);
      return Math.sqrt((ni + nx) * t * dxi * dxi + (ni + ny) * t * dyi * dyi - ni * t * dxy * dxy);
    }
    case 'average':
      return (nx * dxi + ny * dyi) / (nx + ny);
    case 'complete':
      return Math.max(dxi, dyi);
    case 'single':
      return Math.min(dxi, dyi);
    case 'weighted':
      return 0.5 * (dxi + dyi);
  }
}

/** SciPy `_hierarchy.label`: rewrite point ids into cluster ids with a union-find. */
function relabel(Z: Float64Array, n: number): void {
  const parent = new Int32Array(2 * n - 1).map((_, i) => i);
  const size = new Float64Array(2 * n - 1).fill(1);
  let nextLabel = n;
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root];
    while (parent[x] !== root) {
      const next = parent[x];
      parent[x] = root;
      x = next;
    }
    return root;
  };
  for (let i = 0; i < n - 1; i++) {
    const xr = find(Z[i * 4]);
    const yr = find(Z[i * 4 + 1]);
    Z[i * 4] = Math.min(xr, yr);
    Z[i * 4 + 1] = Math.max(xr, yr);
    parent[xr] = nextLabel;
    parent[yr] = nextLabel;
    size[nextLabel] = size[xr] + size[yr];
    Z[i * 4 + 3] = size[nextLabel];
    nextLabel++;
  }
}

/** Leaf ids in dendrogram order, left child first (SciPy `leaves_list`). */
export function leavesOrder(Z: Float64Array, n: number): number[] {
  if (n === 1) return [0];
  const out: number[] = [];
  const stack = [2 * n - 2];
  while (stack.length) {
    const node = stack.pop()!;
    if (node < n) {
      out.push(node);
      continue;
    }
    const row = node - n;
    stack.push(Z[row * 4 + 1], Z[row * 4]);
  }
  return out;
}

/**
 * Flat clusters from undoing the last k - 1 merges (SciPy `fcluster(Z, k, 'maxclust')` for a
 * monotone linkage). Labels 1..k are numbered in dendrogram leaf order, leftmost cluster first.
 */
export function cutTree(Z: Float64Array, n: number, k: number): Int32Array {
  const clusters = Math.max(1, Math.min(k, n));
  const labels = new Int32Array(n);
  const roots: number[] = [];
  // Nodes formed at rows >= n - clusters are "cut"; their children below the cut are roots.
  const firstCut = n - clusters;
  const isCut = (node: number): boolean => node >= n && node - n >= firstCut;
  const stack = [2 * n - 2];
  if (n === 1) stack[0] = 0;
  while (stack.length) {
    const node = stack.pop()!;
    if (!isCut(node)) {
      roots.push(node);
      continue;
    }
    const row = node - n;
    stack.push(Z[row * 4 + 1], Z[row * 4]);
  }
  roots.forEach((root, index) => {
    const members = [root];
    while (members.length) {
      const node = members.pop()!;
      if (node < n) labels[node] = index + 1;
      else members.push(Z[(node - n) * 4], Z[(node - n) * 4 + 1]);
    }
  });
  return labels;
}

/**
 * Mean silhouette coefficient (scikit-learn `silhouette_score`, Euclidean): per point
 * (b - a) / max(a, b), 0 for points alone in their cluster.
 */
export function silhouetteScore(condensed: Float64Array, n: number, labels: Int32Array): number {
  let maxLabel = 0;
  for (let i = 0; i < n; i++) maxLabel = Math.max(maxLabel, labels[i]);
  const counts = new Float64Array(maxLabel + 1);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  const sums = new Float64Array(maxLabel + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[labels[j]] += condensed[condensedIndex(n, i, j)];
    const own = labels[i];
    if (counts[own] <= 1) continue;
    const a = sums[own] / (counts[own] - 1);
    let b = Infinity;
    for (let c = 0; c <= maxLabel; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[c] / counts[c]);
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}
