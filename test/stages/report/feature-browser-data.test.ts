import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivationTable } from '../../../schemas/activation-shard.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { halfToFloat } from '../../../lib/core/half.js';
import { readRows } from '../../../stages/report/activation-rows.js';
import { collectFeatureBrowserData, FeatureBrowserAccumulator, type FeatureBrowserOptions } from '../../../stages/report/feature-browser-data.js';
import { logitEffectsReference } from '../../../stages/report/logit-effects.js';
import { seededRandom, syntheticEncoder, syntheticTable } from '../../helpers/synthetic-report-input.js';

const D_IN = 6;
const D_SAE = 16;
const VOCAB = 30;
const OPTIONS: Partial<FeatureBrowserOptions> = { topFrequent: 5, sample: 3, requested: [2, 9], topContexts: 4, windowBefore: 3, windowAfter: 2, histogramBins: 8, logitTopK: 3 };

function table(): ActivationTable {
  const t = syntheticTable(200, 10, D_IN, VOCAB, 5);
  // Two documents inside some context windows: windows must stop at the boundary.
  for (let r = 0; r < t.count; r++) t.docIndex[r] = t.positions[r] >= 6 && t.rowIds[r] % 2 === 0 ? 1 : 0;
  return t;
}

const words = Array.from({ length: VOCAB }, (_, i) => `t${i}`);

/** Brute force: every latent's activations on every table row (0 on special rows). */
async function denseActs(t: ActivationTable): Promise<Float32Array> {
  const enc = syntheticEncoder(D_IN, D_SAE, 7);
  const all = Array.from({ length: t.count }, (_, r) => r);
  const acts = await enc.encode(readRows(t, all), t.count);
  for (let r = 0; r < t.count; r++) if (t.isSpecial[r]) acts.fill(0, r * D_SAE, (r + 1) * D_SAE);
  return acts;
}

test('browser data equals a brute-force computation, for any chunk size', async () => {
  const t = table();
  const dense = await denseActs(t);
  const eligible = t.isSpecial.reduce((a, s) => a + (s ? 0 : 1), 0);
  const rand = seededRandom(9);
  const unembed = { values: Float32Array.from({ length: VOCAB * D_IN }, () => rand() - 0.5), vocab: VOCAB };
  const results = [];
  for (const chunkTokens of [7, 1000]) {
    const progress: number[] = [];
    const decodeCalls: number[][] = [];
    const data = await collectFeatureBrowserData(
      { encoder: syntheticEncoder(D_IN, D_SAE, 7), table: t, decode: (ids) => (decodeCalls.push(ids), ids.map((i) => words[i])), unembed, clusters: new Map([[2, 4]]), options: { ...OPTIONS, chunkTokens } },
      defaultStageContext({ onProgress: (p) => progress.push(p.done) }),
    );
    assert.equal(progress.at(-1), eligible);
    assert.equal(decodeCalls.length, 1);
    assert.equal(new Set(decodeCalls[0]).size, decodeCalls[0].length, 'each id decoded once');
    assert.equal(data.tokensScanned, eligible);
    results.push(data);
  }
  assert.deepEqual(results[0], results[1], 'chunking does not change the result');
  const data = results[0];

  const counts = Array.from({ length: D_SAE }, (_, i) => dense.filter((_, k) => k % D_SAE === i && dense[k] > 0).length);
  assert.equal(data.aliveLatents, counts.filter((c) => c > 0).length);
  const byCount = counts.map((c, i) => ({ c, i })).filter((e) => e.c > 0).sort((a, b) => b.c - a.c || a.i - b.i);
  assert.deepEqual(data.latents.filter((l) => l.selectedBy === 'frequent').map((l) => l.id), byCount.slice(0, 5).map((e) => e.i));
  assert.equal(data.latents.filter((l) => l.selectedBy === 'sample').length, 3);
  assert.equal(data.latents.find((l) => l.id === 2)?.cluster, 4);

  const effects = logitEffectsReference({ directions: concatRows(syntheticEncoder(D_IN, D_SAE, 7).decoderRows(), data.latents.map((l) => l.id)), latents: data.latents.length, unembed: unembed.values, vocab: VOCAB, dModel: D_IN, k: 3 });
  data.latents.forEach((l, li) => {
    const col = Array.from({ length: t.count }, (_, r) => dense[r * D_SAE + l.id]);
    const firing = col.filter((a) => a > 0);
    assert.ok(Math.abs(l.density - firing.length / eligible) < 1e-12);
    assert.ok(Math.abs(l.meanActivation - firing.reduce((a, b) => a + b, 0) / Math.max(1, firing.length)) < 1e-6);
    assert.equal(l.maxActivation, firing.length ? Math.max(...firing) : 0);
    const tops = col.map((a, r) => ({ a, r })).filter((e) => e.a > 0).sort((x, y) => y.a - x.a || x.r - y.r).slice(0, 4);
    assert.deepEqual(l.contexts.map((c) => c.tokenIndex), tops.map((e) => e.r), `latent ${l.id} top tokens`);
    l.contexts.forEach((c, ci) => {
      const r = tops[ci].r;
      const same = (u: number) => t.rowIds[u] === t.rowIds[r] && t.docIndex[u] === t.docIndex[r];
      let s = r;
      while (s > 0 && r - s < 3 && same(s - 1)) s--;
      let e = r + 1;
      while (e < t.count && e - r <= 2 && same(e)) e++;
      assert.equal(c.maxIndex, r - s);
      assert.deepEqual(c.tokens, Array.from({ length: e - s }, (_, w) => words[t.tokenIds[s + w]]));
      c.acts.forEach((a, w) => assert.ok(Math.abs(a - col[s + w]) <= 1e-3 * Math.abs(col[s + w]) + 1e-9, `window activation ${w}`));
    });
    assert.equal(l.histogram.counts.reduce((a, b) => a + b, 0), firing.length);
    assert.deepEqual(l.logitsUp.map((x) => x.token), effects[li].upIds.map((i) => words[i]));
    assert.deepEqual(l.logitsDown.map((x) => x.token), effects[li].downIds.map((i) => words[i]));
  });
});

test('the accumulator fed by an eval-style token pass (batches of whole windows, specials included) gives the same data', async () => {
  const t = table();
  const enc = syntheticEncoder(D_IN, D_SAE, 7);
  const decode = (ids: number[]) => ids.map((i) => words[i]);
  const standalone = await collectFeatureBrowserData({ encoder: enc, table: t, decode, options: OPTIONS }, defaultStageContext());
  const acc = new FeatureBrowserAccumulator(D_SAE, OPTIONS);
  const batchTokens = 30; // 3 windows of 10 tokens
  for (let first = 0; first < t.count; first += batchTokens) {
    const rows = Math.min(batchTokens, t.count - first);
    const latents = await enc.encode(readRows(t, Array.from({ length: rows }, (_, r) => first + r)), rows);
    acc.add({ table: t, first, rows, latents });
  }
  const finished = await acc.finish({ decode });
  assert.deepEqual(finished, standalone);
  const density = acc.densities();
  assert.equal(density.length, D_SAE);
  for (const l of finished.latents) assert.equal(density[l.id], l.density);
  assert.equal(density.filter((d) => d > 0).length, finished.aliveLatents);
});

test('a float16 table gives the same data as the float32 table of its values', async () => {
  const t32 = table();
  const rand = seededRandom(4);
  const bits = Uint16Array.from({ length: t32.values.length }, () => ((rand() < 0.5 ? 0x8000 : 0) | ((10 + Math.floor(rand() * 8)) << 10) | Math.floor(rand() * 1024)));
  const t16: ActivationTable = { ...t32, dtype: 'float16', values: bits };
  const f32: ActivationTable = { ...t32, values: Float32Array.from(bits, halfToFloat) };
  const run = (tbl: ActivationTable) => collectFeatureBrowserData({ encoder: syntheticEncoder(D_IN, D_SAE, 7), table: tbl, decode: (ids) => ids.map((i) => words[i]), options: OPTIONS }, defaultStageContext());
  assert.deepEqual(await run(t16), await run(f32));
});

test('halfToFloat decodes IEEE half precision', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), 65504);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('cancellation stops the scan; a mismatched table is bad input', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await assert.rejects(collectFeatureBrowserData({ encoder: syntheticEncoder(D_IN, D_SAE, 7), table: table(), decode: (ids) => ids.map(String) }, defaultStageContext({ signal: controller.signal })), /stop/);
  await assert.rejects(collectFeatureBrowserData({ encoder: syntheticEncoder(D_IN + 1, D_SAE, 7), table: table(), decode: (ids) => ids.map(String) }, defaultStageContext()), /d_model 6/);
});

function concatRows(rows: Float32Array, ids: number[]): Float32Array {
  const out = new Float32Array(ids.length * D_IN);
  ids.forEach((id, i) => out.set(rows.subarray(id * D_IN, (id + 1) * D_IN), i * D_IN));
  return out;
}
