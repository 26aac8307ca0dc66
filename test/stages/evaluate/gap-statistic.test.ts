import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gapStatistic, withinDispersion } from '../../../stages/evaluate/gap-statistic.js';
import { createRng } from '../../../stages/evaluate/random.js';
import { clusterFeatureProfiles } from '../../../stages/evaluate/temporal-clustering.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';

const fixture = loadEvalFixture('gap');

for (const [name, reference] of [['planted', 'uniform'], ['structureless', 'uniform'], ['planted', 'permuted'], ['structureless', 'permuted']] as const) {
  test(`gap statistic (${reference} reference) on ${name} points equals the SciPy-tree reference given the same draws`, () => {
    const [n, p] = fixture.tensors[`${name}_points`].shape;
    const [B] = fixture.tensors[`${name}_uniforms`].shape;
    const points = Float64Array.from(f32(fixture, `${name}_points`));
    const all = reference === 'uniform' ? f32(fixture, `${name}_uniforms`) : i32(fixture, `${name}_orders`);
    const draws = Array.from({ length: B }, (_, b) => all.subarray(b * n * p, (b + 1) * n * p));
    const ref = fixture.expected[name][reference];
    const got = gapStatistic(points, n, p, { method: 'ward', kMin: 1, kMax: fixture.expected.k_max, references: B, reference }, createRng(0), draws);
    assert.deepEqual(got.k, ref.k);
    for (const key of ['logW', 'expectedLogW', 'gap', 'sk'] as const) {
      const want: number[] = ref[{ logW: 'log_w', expectedLogW: 'expected_log_w', gap: 'gap', sk: 's_k' }[key]];
      got[key].forEach((v, i) => assertClose(v, want[i], 1e-6, `${key}[${i}]`));
    }
    assert.equal(got.chosen, ref.chosen);
    assert.equal(got.atSearchLimit, ref.at_search_limit);
  });
}

test('the fixture has the answers the test needs: 3 planted clusters, no structure = 1, under both nulls', () => {
  for (const reference of ['uniform', 'permuted']) {
    assert.deepEqual([fixture.expected.planted[reference].chosen, fixture.expected.structureless[reference].chosen], [3, 1], reference);
  }
});

test('W_k is the within-cluster sum of squares', () => {
  const points = Float64Array.from([0, 0, 2, 0, 10, 10, 10, 12]);
  assert.equal(withinDispersion(points, 4, 2, [1, 1, 2, 2]), 2 + 2);
  // One cluster: sum ||x - (5.5, 5.5)||^2 = 5.5^2 * 2 + (3.5^2 + 5.5^2) + (4.5^2 + 4.5^2) + (4.5^2 + 6.5^2) = 206.
  assert.equal(withinDispersion(points, 4, 2, [0, 0, 0, 0]), 206);
});

/** Latent profiles over 12 positions: four planted groups (each prefers 3 positions) or none. */
function profiles(planted: boolean, seed: number) {
  const rng = createRng(seed);
  const positions = Array.from({ length: 12 }, (_, p) => p);
  const n = 40;
  const firing = new Float32Array(n * positions.length);
  const density = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const scale = 0.05 + 0.3 * rng.next();
    for (const p of positions) {
      const level = planted ? (Math.floor(p / 3) === Math.floor(i / 10) ? 1 : 0.2) : 0.4;
      firing[i * positions.length + p] = scale * Math.max(0, level + 0.1 * rng.normal());
    }
    density[i] = scale;
  }
  return { firing, density, positions };
}

test('temporal clustering by gap finds planted position groups and answers k = 1 when there are none', () => {
  const options = { method: 'ward' as const, normalisation: 'mean' as const, maxFeatures: 100, minClusters: 1, maxClusters: 10 };
  for (const seed of [5, 6]) {
    const p = profiles(true, seed);
    const planted = clusterFeatureProfiles(p.firing, p.density, p.positions, options);
    assert.equal(planted?.clusters, 4, `planted, seed ${seed}`);
    assert.equal(planted?.criterion, 'gap');
    const q = profiles(false, seed);
    const none = clusterFeatureProfiles(q.firing, q.density, q.positions, options);
    assert.equal(none?.clusters, 1, `structureless, seed ${seed}`);
    assert.ok(none!.labels.every((l) => l === 1));
    assert.deepEqual(none!.gap!.k, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }
});

test('structure without an elbow (tight groups with low-dimensional noise) ends at the search limit, flagged', () => {
  const rng = createRng(5);
  const positions = Array.from({ length: 12 }, (_, p) => p);
  const firing = new Float32Array(40 * 12);
  const density = new Float64Array(40);
  for (let i = 0; i < 40; i++) {
    const scale = 0.05 + 0.3 * rng.next();
    // Multiplicative noise: the preferred positions carry ten times the others' noise.
    for (const p of positions) firing[i * 12 + p] = scale * (Math.floor(p / 3) === Math.floor(i / 10) ? 1 : 0.1) * (1 + 0.05 * rng.normal());
    density[i] = scale;
  }
  const result = clusterFeatureProfiles(firing, density, positions, { method: 'ward', normalisation: 'mean', maxFeatures: 100, minClusters: 1, maxClusters: 10 });
  assert.deepEqual([result?.clusters, result?.gap?.atSearchLimit], [10, true]);
});
