import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultStageContext } from '../../../lib/core/context.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { leavesOrder } from '../../../stages/evaluate/hierarchical-clustering.js';
import { createRng } from '../../../stages/evaluate/random.js';
import { TemporalAccumulator, summarise } from '../../../stages/evaluate/temporal-analysis.js';
import { clusterFeatureProfiles, normaliseProfile } from '../../../stages/evaluate/temporal-clustering.js';
import { runTokenPass } from '../../../stages/evaluate/token-pass.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';
import { tableFromWindows } from './helpers/tiny-model.js';

const fixture = loadEvalFixture('core');
const [rows, seqLen] = fixture.tensors.token_ids.shape;
const d = fixture.tensors.activations.shape[2];
const dSae = fixture.tensors.W_enc.shape[1];
const table = tableFromWindows({
  activations: f32(fixture, 'activations'),
  tokenIds: i32(fixture, 'token_ids'),
  docIndex: i32(fixture, 'doc_index'),
  rows,
  seqLen,
  d,
  specialIds: fixture.meta.special_token_ids,
});
const sae = createPlainReluSae({ dIn: d, dSae, wEnc: f32(fixture, 'W_enc'), bEnc: f32(fixture, 'b_enc'), wDec: f32(fixture, 'W_dec'), bDec: f32(fixture, 'b_dec') });

function closeOrNaN(actual: number, expected: number | null, tolerance: number, label: string): void {
  if (expected === null) assert.ok(Number.isNaN(actual), `${label} is NaN`);
  else assertClose(actual, expected, tolerance, label);
}

test('temporal statistics equal the NumPy reference of their definitions', async () => {
  const acc = new TemporalAccumulator(d, dSae);
  // Batches of 3 windows: pairs must never be formed across windows or batches.
  await runTokenPass(table, sae, { batchPrompts: 3, maxBatches: null }, [acc], defaultStageContext());
  const stats = acc.finish();
  const ref = fixture.expected.temporal;
  assert.equal(stats.pairs, ref.pairs);
  assert.equal(stats.perPosition.length, ref.per_position.length);
  stats.perPosition.forEach((p, i) => {
    const r = ref.per_position[i];
    assert.equal(p.position, r.position);
    assert.equal(p.tokens, r.tokens);
    assertClose(p.l0, r.l0, 1e-9, `l0@${p.position}`);
    assertClose(p.mse, r.mse, 1e-4, `mse@${p.position}`);
    assertClose(p.explained_variance, r.explained_variance, 1e-4, `ev@${p.position}`);
  });
  for (let i = 0; i < dSae; i++) {
    closeOrNaN(stats.featureInstability[i], ref.feature_instability[i], 1e-4, `instability[${i}]`);
    closeOrNaN(stats.featureAutocorrelation[i], ref.feature_autocorrelation[i], 1e-4, `autocorr[${i}]`);
  }
  assertClose(stats.temporalInstability, ref.temporal_instability, 1e-5, 'temporal_instability');
  const nPos = stats.positions.length;
  stats.positions.forEach((p, c) => {
    for (let i = 0; i < dSae; i++) {
      assertClose(stats.firingRate[i * nPos + c], ref.firing_rate[i][p], 1e-6, `firing[${i},${p}]`);
      assertClose(stats.meanActivation[i * nPos + c], ref.mean_activation[i][p], 1e-5, `mean[${i},${p}]`);
    }
  });
  const s = summarise(stats.featureInstability);
  assert.equal(s.count, ref.feature_instability.filter((v: number | null) => v !== null).length);
});

test('clustering finds planted position clusters and chooses their number by silhouette', () => {
  const rng = createRng(5);
  const positions = Array.from({ length: 12 }, (_, p) => p);
  const groups = 4;
  const perGroup = 10;
  const dSaeLocal = groups * perGroup + 2;
  const firing = new Float32Array(dSaeLocal * positions.length);
  const density = new Float64Array(dSaeLocal);
  for (let g = 0; g < groups; g++) {
    for (let m = 0; m < perGroup; m++) {
      const i = g * perGroup + m;
      const scale = 0.05 + 0.3 * rng.next();
      for (const p of positions) {
        const preferred = Math.floor(p / 3) === g ? 1 : 0.1;
        firing[i * positions.length + p] = scale * preferred * (1 + 0.05 * rng.normal());
      }
      density[i] = scale;
    }
  }
  // Two dead latents stay out.
  const result = clusterFeatureProfiles(firing, density, positions, { method: 'ward', normalisation: 'mean', maxFeatures: 100, minClusters: 2, maxClusters: 10, selection: 'silhouette' });
  assert.ok(result);
  assert.equal(result.clusters, groups);
  assert.equal(result.features.length, groups * perGroup);
  assert.equal(result.linkage.length, groups * perGroup - 1);
  // Leaves of the returned linkage index `features`, already in dendrogram order.
  assert.deepEqual(leavesOrder(Float64Array.from(result.linkage.flat()), result.features.length), result.features.map((_, i) => i));
  assert.equal(result.silhouettes.length, 9);
  const byLabel = new Map<number, Set<number>>();
  result.features.forEach((feature, i) => {
    const set = byLabel.get(result.labels[i]) ?? new Set<number>();
    set.add(Math.floor(feature / perGroup));
    byLabel.set(result.labels[i], set);
  });
  for (const planted of byLabel.values()) assert.equal(planted.size, 1, 'each cluster holds one planted group');
  assert.deepEqual(normaliseProfile([1, 3], 'zscore'), [-1, 1]);
  assert.equal(result.criterion, 'silhouette');
  assert.equal(result.gap, null);
  assert.equal(clusterFeatureProfiles(firing, new Float64Array(dSaeLocal), positions, { method: 'ward', normalisation: 'mean', maxFeatures: 10, minClusters: 2, maxClusters: 10 }), null);
});
