import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { layoutDendrogram, leafProfiles } from '../../../stages/report/dendrogram.js';
import { fixturePath } from '../../helpers/paths.js';

interface ScipyCase {
  name: string;
  n: number;
  p: number | null;
  linkage: number[][];
  clusters: number[];
  icoord: number[][];
  dcoord: number[][];
  leaves: number[];
}

const cases = (JSON.parse(readFileSync(fixturePath('report', 'dendrogram-scipy.json'), 'utf8')) as { cases: ScipyCase[] }).cases;

/** A segment as a sortable key, in SciPy's x units (leaf j at 5 + 10 j). */
const key = (x: number, x2: number, y: number, y2: number) => [x, x2, y, y2].map((v) => v.toFixed(9)).join(',');

for (const c of cases) {
  test(`dendrogram layout matches scipy.cluster.hierarchy.dendrogram: ${c.name}`, () => {
    const layout = layoutDendrogram(c.linkage, c.n, c.clusters, c.p ?? c.n);
    // Leaf order: SciPy lists point ids for single leaves and contracted-cluster ids (>= n) otherwise.
    const ours = layout.leaves.map((l) => (l.members.length === 1 ? l.members[0] : null));
    c.leaves.forEach((leaf, j) => {
      if (leaf < c.n) assert.equal(ours[j], leaf, `leaf ${j}`);
      else assert.equal(layout.leaves[j].members.length, c.linkage[leaf - c.n][3], `contracted leaf ${j} size`);
    });
    assert.equal(layout.leaves.length, c.leaves.length);
    const expected: string[] = [];
    c.icoord.forEach((xs, i) => {
      const ys = c.dcoord[i];
      expected.push(key(xs[0], xs[1], ys[0], ys[1]), key(xs[3], xs[2], ys[3], ys[2]), key(xs[1], xs[2], ys[1], ys[2]));
    });
    const got = layout.segments.map((s) => key(s.x * 10, s.x2 * 10, s.y, s.y2));
    assert.deepEqual(got.sort(), expected.sort());
    // Members partition the points.
    assert.deepEqual(layout.leaves.flatMap((l) => l.members).sort((a, b) => a - b), Array.from({ length: c.n }, (_, i) => i));
  });
}

test('leaves are coloured by their flat cluster; mixed merges are above the cut', () => {
  const c = cases.find((x) => x.name === 'ward-18')!;
  const layout = layoutDendrogram(c.linkage, c.n, c.clusters, c.n);
  for (const leaf of layout.leaves) assert.equal(leaf.cluster, c.clusters[leaf.members[0]]);
  const root = layout.segments.at(-1)!;
  assert.equal(root.cluster, null, 'the root joins different clusters');
  assert.equal(root.y, layout.maxDistance);
});

test('leaf profiles average members, bin positions and scale each leaf to its max', () => {
  const leaves = [
    { slot: 0, members: [0, 1], cluster: 1 },
    { slot: 1, members: [2], cluster: 2 },
  ];
  const activity = [
    [1, 1, 2, 2, 0],
    [3, 3, 2, 2, 0],
    [0, 0, 0, 0, 0],
  ];
  const { bins, cells } = leafProfiles(leaves, activity, [0, 1, 2, 3, 4], 3);
  assert.deepEqual(bins, [{ start: 0, end: 1 }, { start: 2, end: 3 }, { start: 4, end: 4 }]);
  assert.deepEqual(cells.filter((x) => x.leaf === 0).map((x) => x.raw), [2, 2, 0]);
  assert.deepEqual(cells.filter((x) => x.leaf === 0).map((x) => x.value), [1, 1, 0]);
  assert.deepEqual(cells.filter((x) => x.leaf === 1).map((x) => x.value), [0, 0, 0], 'an all-zero leaf stays 0');
});

test('a linkage with the wrong number of rows is bad input', () => {
  assert.throws(() => layoutDendrogram([[0, 1, 1, 2]], 3, [1, 1, 1], 3), /3 features need 2/);
});
