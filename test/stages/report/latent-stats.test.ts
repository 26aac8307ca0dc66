import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatentStats, type ChunkWindows } from '../../../stages/report/latent-stats.js';
import { seededRandom } from '../../helpers/synthetic-report-input.js';

/** Sparse non-negative activations [rows, d] with a wide range of scales per latent. */
function randomActs(rows: number, d: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const scale = Array.from({ length: d }, (_, i) => 10 ** (i % 5 - 2));
  return Float32Array.from({ length: rows * d }, (_, k) => (rand() < 0.3 ? rand() * scale[k % d] : 0));
}

test('counts, sums, maxima and top-k equal a brute-force pass, whatever the chunking', () => {
  const rows = 300;
  const d = 12;
  const k = 7;
  const acts = randomActs(rows, d, 1);
  for (const chunk of [1, 17, 300]) {
    const stats = new LatentStats(d, { topK: k, bins: 8, window: 0 });
    for (let s = 0; s < rows; s += chunk) {
      const n = Math.min(chunk, rows - s);
      stats.addChunk(acts.subarray(s * d, (s + n) * d), n, Array.from({ length: n }, (_, r) => 1000 + s + r));
    }
    assert.equal(stats.tokens, rows);
    for (let i = 0; i < d; i++) {
      const col = Array.from({ length: rows }, (_, r) => ({ value: acts[r * d + i], token: 1000 + r })).filter((e) => e.value > 0);
      assert.equal(stats.count[i], col.length);
      assert.ok(Math.abs(stats.sum[i] - col.reduce((a, e) => a + e.value, 0)) < 1e-9 * col.length + 1e-12);
      assert.equal(stats.max[i], Math.max(...col.map((e) => e.value)));
      const expected = [...col].sort((a, b) => b.value - a.value || a.token - b.token).slice(0, k);
      assert.deepEqual(stats.top(i).map((e) => [e.value, e.token]), expected.map((e) => [e.value, e.token]), `latent ${i}, chunk ${chunk}`);
    }
  }
});

test('the growing histogram counts every value in the bin the final edges assign it', () => {
  const rows = 500;
  const d = 5;
  const bins = 16;
  const acts = randomActs(rows, d, 2);
  // Grow the range late: a large value at the end forces several pairwise merges.
  acts[(rows - 1) * d] = 40;
  const stats = new LatentStats(d, { topK: 3, bins, window: 0 });
  stats.addChunk(acts, rows, Array.from({ length: rows }, (_, r) => r));
  for (let i = 0; i < d; i++) {
    const h = stats.histogram(i);
    const width = h.edges[1] - h.edges[0];
    assert.ok(h.edges.at(-1)! > stats.max[i], 'range covers the max');
    assert.ok(Number.isInteger(Math.log2(width * bins)), 'range is a power of two');
    const expected = new Array<number>(h.counts.length).fill(0);
    for (let r = 0; r < rows; r++) {
      const a = acts[r * d + i];
      if (a > 0) expected[Math.min(bins - 1, Math.floor(a / width))]++;
    }
    assert.deepEqual(h.counts, expected, `latent ${i}`);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), stats.count[i]);
  }
});

test('each top entry keeps its window activations, also after heap reordering', () => {
  const rows = 40;
  const d = 3;
  const W = 3;
  const acts = randomActs(rows, d, 3);
  acts.fill(0, 5 * d, 6 * d); // a special token never activates
  // Window of row r: rows r-1..r+1 clipped to the chunk; row 5 is "special" (no chunk row).
  const start = new Int32Array(rows);
  const len = new Int32Array(rows);
  const center = new Int32Array(rows);
  const src = new Int32Array(rows * W).fill(-1);
  for (let r = 0; r < rows; r++) {
    start[r] = Math.max(0, r - 1);
    len[r] = Math.min(rows, r + 2) - start[r];
    center[r] = r - start[r];
    for (let w = 0; w < len[r]; w++) src[r * W + w] = start[r] + w === 5 ? -1 : start[r] + w;
  }
  const windows: ChunkWindows = { start, len, center, src };
  const stats = new LatentStats(d, { topK: 4, bins: 4, window: W });
  stats.addChunk(acts, rows, Array.from({ length: rows }, (_, r) => r), windows);
  for (let i = 0; i < d; i++) {
    for (const e of stats.top(i)) {
      assert.equal(e.windowStart, start[e.token]);
      assert.equal(e.acts[e.center], e.value);
      const expected = Array.from({ length: len[e.token] }, (_, w) => (start[e.token] + w === 5 ? 0 : acts[(start[e.token] + w) * d + i]));
      assert.deepEqual(e.acts, expected);
    }
  }
});

test('rejects odd histogram bins and a zero top-k', () => {
  assert.throws(() => new LatentStats(4, { topK: 3, bins: 7, window: 0 }), /even/);
  assert.throws(() => new LatentStats(4, { topK: 0, bins: 8, window: 0 }), /topContexts/);
});
