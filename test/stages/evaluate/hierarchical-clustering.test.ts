import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cutTree,
  LINKAGE_METHODS,
  leavesOrder,
  linkage,
  pairwiseDistances,
  silhouetteScore,
} from '../../../stages/evaluate/hierarchical-clustering.js';
import { assertClose, f32, loadEvalFixture } from './helpers/fixture.js';

const fixture = loadEvalFixture('clustering');
const [n, d] = fixture.tensors.points.shape;
const points = f32(fixture, 'points');

/** Relabels a partition by first occurrence, so two labelings of one partition compare equal. */
function canonical(labels: ArrayLike<number>): number[] {
  const seen = new Map<number, number>();
  return Array.from(labels, (l) => {
    if (!seen.has(l)) seen.set(l, seen.size);
    return seen.get(l)!;
  });
}

for (const method of LINKAGE_METHODS) {
  test(`${method} linkage equals SciPy's linkage matrix, leaves and maxclust cuts`, () => {
    const ref = fixture.expected[method];
    const Z = linkage(pairwiseDistances(points, n, d), n, method);
    ref.linkage.forEach((row: number[], i: number) => {
      assert.equal(Z[i * 4], row[0], `row ${i} a`);
      assert.equal(Z[i * 4 + 1], row[1], `row ${i} b`);
      assertClose(Z[i * 4 + 2], row[2], 1e-5 * Math.max(1, row[2]), `row ${i} distance`);
      assert.equal(Z[i * 4 + 3], row[3], `row ${i} size`);
    });
    assert.deepEqual(leavesOrder(Z, n), ref.leaves);
    const distances = pairwiseDistances(points, n, d);
    for (const [k, cut] of Object.entries(ref.cuts) as [string, { labels: number[]; silhouette: number }][]) {
      const labels = cutTree(Z, n, Number(k));
      assert.deepEqual(canonical(labels), canonical(cut.labels), `partition for k=${k}`);
      assertClose(silhouetteScore(distances, n, labels), cut.silhouette, 1e-6, `silhouette k=${k}`);
    }
  });
}

test('cut labels follow dendrogram order and degenerate sizes work', () => {
  const Z = linkage(pairwiseDistances(points, n, d), n, 'ward');
  const labels = cutTree(Z, n, 4);
  const order = leavesOrder(Z, n).map((leaf) => labels[leaf]);
  const firstSeen = [...new Set(order)];
  assert.deepEqual(firstSeen, [1, 2, 3, 4]);
  assert.deepEqual(Array.from(cutTree(linkage(new Float64Array([2]), 2, 'ward'), 2, 5)), [1, 2]);
  assert.equal(linkage(new Float64Array(0), 1, 'average').length, 0);
});
