import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActivationTable } from '../../../schemas/activation-shard.js';
import { BatchStream, sequenceWindows, tablesAsData, longestWindow } from '../../../stages/train/batches.js';

/** A table whose value at (token, dim) is token * 10 + dim, so batches reveal which token they hold. */
function table(count: number, opts: { rowLen: number; special?: number[]; docBreaks?: number[]; base?: number }): ActivationTable {
  const d = 2;
  const values = new Float32Array(count * d);
  const base = opts.base ?? 0;
  for (let i = 0; i < count; i++) for (let j = 0; j < d; j++) values[i * d + j] = (base + i) * 10 + j;
  const isSpecial = new Uint8Array(count);
  for (const s of opts.special ?? []) isSpecial[s] = 1;
  const docIndex = new Int32Array(count);
  for (const b of opts.docBreaks ?? []) for (let i = b; i < count && Math.floor(i / opts.rowLen) === Math.floor(b / opts.rowLen); i++) docIndex[i] += 1;
  return {
    dModel: d, dtype: 'float32', count, values, tokenIds: new Int32Array(count),
    rowIds: Int32Array.from({ length: count }, (_, i) => Math.floor(i / opts.rowLen)),
    positions: Int32Array.from({ length: count }, (_, i) => i % opts.rowLen),
    docIndex, isSpecial, sourceSets: new Array(count).fill('x'),
  };
}

const tokenOf = (xs: Float32Array, row: number) => Math.round(xs[row * 2] / 10);

test('token batches: every non-special token once per epoch, in a seeded order, across shards', async () => {
  const shards = [table(12, { rowLen: 4, special: [0, 4, 8] }), table(8, { rowLen: 4, special: [0], base: 100 })];
  const stream = new BatchStream(tablesAsData(shards), { mode: 'token', batchSize: 4, seqLen: 1, seed: 5 }, 2, 'float32');
  const seen: number[] = [];
  const xs = new Float32Array(4 * 2);
  for (let b = 0; b < 4; b++) {
    await stream.fill({ xs }, 0);
    for (let r = 0; r < 4; r++) seen.push(tokenOf(xs, r));
  }
  const expected = [1, 2, 3, 5, 6, 7, 9, 10, 11, 101, 102, 103, 104, 105, 106, 107];
  assert.deepEqual([...seen].sort((a, b) => a - b), expected);
  assert.notDeepEqual(seen, expected, 'order is shuffled');
  await stream.fill({ xs }, 0);
  assert.equal(stream.cursor().epoch, 1, 'the next batch starts the second epoch');
});

test('a stream reopened at a cursor continues exactly where the first one was', async () => {
  const shards = [table(40, { rowLen: 8, special: [0, 8] }), table(24, { rowLen: 8, base: 100 })];
  const opts = { mode: 'token' as const, batchSize: 5, seqLen: 1, seed: 9 };
  const a = new BatchStream(tablesAsData(shards), opts, 2, 'float32');
  const xs = new Float32Array(5 * 2);
  for (let i = 0; i < 7; i++) await a.fill({ xs }, 0);
  const b = new BatchStream(tablesAsData(shards), opts, 2, 'float32', a.cursor());
  for (let i = 0; i < 20; i++) {
    const xa = new Float32Array(10);
    const xb = new Float32Array(10);
    await a.fill({ xs: xa }, 0);
    await b.fill({ xs: xb }, 0);
    assert.deepEqual(xa, xb, `batch ${i}`);
  }
});

test('sequence batches: masks exclude special tokens, padding and pairs across documents', async () => {
  // Two windows of 6 positions; position 0 special; a document starts at token 9 (window 2, pos 3).
  const t = table(12, { rowLen: 6, special: [0, 6], docBreaks: [9] });
  const stream = new BatchStream(tablesAsData([t]), { mode: 'sequence', batchSize: 16, seqLen: 8, seed: 1 }, 2, 'float32');
  const xs = new Float32Array(16 * 2);
  const tokenMasks = new Float32Array(16);
  const pairMasks = new Float32Array(16);
  await stream.fill({ xs, tokenMasks, pairMasks }, 0);
  for (let s = 0; s < 2; s++) {
    const first = tokenOf(xs, s * 8);
    const rows = Array.from({ length: 8 }, (_, i) => s * 8 + i);
    if (first === 0) {
      assert.deepEqual(rows.map((r) => tokenMasks[r]), [0, 1, 1, 1, 1, 1, 0, 0]);
      assert.deepEqual(rows.map((r) => pairMasks[r]), [0, 0, 1, 1, 1, 1, 0, 0]);
    } else {
      assert.equal(first, 6);
      assert.deepEqual(rows.map((r) => tokenMasks[r]), [0, 1, 1, 1, 1, 1, 0, 0]);
      assert.deepEqual(rows.map((r) => pairMasks[r]), [0, 0, 1, 0, 1, 1, 0, 0], 'pair (8, 9) crosses a document');
      assert.deepEqual(xs.subarray((s * 8 + 6) * 2, (s * 8 + 8) * 2), new Float32Array(4), 'padding is zero');
    }
  }
});

test('sequence windows split long rows and drop all-special windows; longestWindow reads row runs', () => {
  const t = table(10, { rowLen: 5, special: [5, 6, 7, 8, 9] });
  const { starts, lengths } = sequenceWindows(t, 3);
  assert.deepEqual(Array.from(starts), [0, 3]);
  assert.deepEqual(Array.from(lengths), [3, 2]);
  assert.equal(longestWindow(t), 5);
});

test('bad input: batch size not a multiple of seqLen, empty data, mismatched shards', async () => {
  const t = table(8, { rowLen: 4 });
  assert.throws(() => new BatchStream(tablesAsData([t]), { mode: 'sequence', batchSize: 6, seqLen: 4, seed: 0 }, 2, 'float32'), /multiple of seqLen/);
  const allSpecial = table(4, { rowLen: 4, special: [0, 1, 2, 3] });
  const s = new BatchStream(tablesAsData([allSpecial]), { mode: 'token', batchSize: 2, seqLen: 1, seed: 0 }, 2, 'float32');
  await assert.rejects(s.fill({ xs: new Float32Array(4) }, 0), /No usable non-special tokens/);
  const wide = { ...table(4, { rowLen: 4 }), dModel: 3, values: new Float32Array(12) };
  const m = new BatchStream(tablesAsData([wide]), { mode: 'token', batchSize: 2, seqLen: 1, seed: 0 }, 2, 'float32');
  await assert.rejects(m.fill({ xs: new Float32Array(4) }, 0), /d_model 3/);
});

test('mixing buffer: shards that fit in bufferBytes are shuffled together; one-shard groups are not', async () => {
  const shards = [0, 1, 2, 3].map((s) => table(64, { rowLen: 8, base: 1000 * s }));
  const shardsIn = async (bufferBytes: number) => {
    const stream = new BatchStream(tablesAsData(shards), { mode: 'token', batchSize: 32, seqLen: 1, seed: 3, bufferBytes }, 2, 'float32');
    const xs = new Float32Array(32 * 2);
    await stream.fill({ xs }, 0);
    return new Set(Array.from({ length: 32 }, (_, r) => Math.floor(tokenOf(xs, r) / 1000)));
  };
  assert.equal((await shardsIn(0)).size, 1, 'without a buffer a batch comes from one shard');
  assert.ok((await shardsIn(64 * 2 * 4 * 4)).size >= 3, 'with all four shards buffered a batch mixes them');
});

test('epochs: every usable token once per epoch, each epoch in a new order; norm outliers never train', async () => {
  const t = table(40, { rowLen: 8, special: [0, 8, 16, 24, 32] });
  t.values[17 * 2] = 1e5; // token 17 becomes a norm outlier
  const stream = new BatchStream(tablesAsData([t]), { mode: 'token', batchSize: 34, seqLen: 1, seed: 4, maxNorm: 1000 }, 2, 'float32');
  const epochs: number[][] = [];
  for (let e = 0; e < 2; e++) {
    const xs = new Float32Array(34 * 2);
    await stream.fill({ xs }, 0);
    epochs.push(Array.from({ length: 34 }, (_, r) => Math.round(xs[r * 2 + 1] - 1) / 10));
  }
  const expected = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 8 !== 0 && i !== 17);
  for (const seen of epochs) assert.deepEqual([...seen].sort((a, b) => a - b), expected);
  assert.notDeepEqual(epochs[0], epochs[1], 'the second epoch is reshuffled');
  const seq = new BatchStream(tablesAsData([t]), { mode: 'sequence', batchSize: 40, seqLen: 8, seed: 4, maxNorm: 1000 }, 2, 'float32');
  const xs = new Float32Array(40 * 2);
  const tokenMasks = new Float32Array(40);
  const pairMasks = new Float32Array(40);
  await seq.fill({ xs, tokenMasks, pairMasks }, 0);
  const row = Array.from({ length: 40 }, (_, r) => r).find((r) => Math.round((xs[r * 2 + 1] - 1) / 10) === 17)!;
  assert.equal(tokenMasks[row], 0, 'the outlier is masked like a special token');
  assert.equal(pairMasks[row], 0);
  assert.equal(pairMasks[row + 1], 0, 'and pairs with it are not valid');
});
