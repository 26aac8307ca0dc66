import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowPacker, type PackedRow, type PackerOptions } from '../../../stages/tokenize/row-packer.js';

const BOS = 2;
const EOS = 1;
const base: PackerOptions = { mode: 'pack', contextLength: 5, rowStartId: BOS, docStartId: BOS, docEndId: null, specialIds: new Set([BOS, EOS]) };
const doc = (id: string, tokens: number[]) => ({ id, sourceSet: `set-${id}`, tokens: Int32Array.from(tokens) });
const plain = (r: PackedRow) => ({ ids: Array.from(r.inputIds), mask: Array.from(r.specialMask), docs: r.docIds, starts: r.docStarts, offsets: r.docOffsets, sets: r.sourceSets, split: r.split });

test('pack mode with BOS rows and BOS boundaries: exact rows, doc_starts, doc_offsets, special mask', () => {
  const p = new RowPacker('train', base);
  assert.deepEqual(p.add(doc('A', [10, 11, 12])).rows, []);
  const b = p.add(doc('B', [20, 21, 22, 23, 24, 25]));
  assert.deepEqual(b.rows.map(plain), [
    { ids: [2, 10, 11, 12, 2], mask: [1, 0, 0, 0, 1], docs: ['A', 'B'], starts: [0, 4], offsets: [0, 0], sets: ['set-A', 'set-B'], split: 'train' },
    { ids: [2, 20, 21, 22, 23], mask: [1, 0, 0, 0, 0], docs: ['B'], starts: [0], offsets: [1], sets: ['set-B'], split: 'train' },
  ]);
  assert.equal(b.dropped, 0);
  // B's stream is [BOS, 20, ..., 25]: the last row resumes at stream index 5 (token 24).
  assert.deepEqual(plain(p.flush()!), { ids: [2, 24, 25], mask: [1, 0, 0], docs: ['B'], starts: [0], offsets: [5], sets: ['set-B'], split: 'train' });
  assert.equal(p.flush(), null);
});

test('pack mode with EOS boundaries and no row BOS', () => {
  const p = new RowPacker('val', { ...base, rowStartId: null, docStartId: null, docEndId: EOS });
  const rows = [...p.add(doc('A', [10, 11])).rows, ...p.add(doc('B', [20, 21, 22, 23])).rows];
  assert.deepEqual(rows.map(plain), [{ ids: [10, 11, 1, 20, 21], mask: [0, 0, 1, 0, 0], docs: ['A', 'B'], starts: [0, 3], offsets: [0, 0], sets: ['set-A', 'set-B'], split: 'val' }]);
  assert.deepEqual(plain(p.flush()!).ids, [22, 23, 1]);
  assert.deepEqual(plain(rows[0]).offsets, [0, 0]);
});

test('truncate mode: one row per document, BOS first, the rest dropped and counted', () => {
  const p = new RowPacker('test', { ...base, mode: 'truncate' });
  const long = p.add(doc('A', [10, 11, 12, 13, 14, 15, 16]));
  assert.deepEqual(long.rows.map(plain), [{ ids: [2, 10, 11, 12, 13], mask: [1, 0, 0, 0, 0], docs: ['A'], starts: [0], offsets: [0], sets: ['set-A'], split: 'test' }]);
  assert.equal(long.dropped, 3);
  const short = p.add(doc('B', [20]));
  assert.deepEqual(short.rows.map((r) => Array.from(r.inputIds)), [[2, 20]]);
  assert.equal(short.dropped, 0);
  assert.equal(p.flush(), null);
});

test('a packer restored from its state continues exactly like the uninterrupted one', () => {
  const docs = [doc('A', [10, 11, 12]), doc('B', [20, 21, 22, 23, 24, 25, 26, 27]), doc('C', [30]), doc('D', [40, 41, 42, 43])];
  const whole = new RowPacker('train', base);
  const expected = docs.flatMap((d) => whole.add(d).rows).concat(whole.flush() ?? []).map(plain);
  for (let cut = 0; cut <= docs.length; cut++) {
    const first = new RowPacker('train', base);
    const rows = docs.slice(0, cut).flatMap((d) => first.add(d).rows);
    const state = JSON.parse(JSON.stringify(first.state()));
    const second = new RowPacker('train', base, state);
    rows.push(...docs.slice(cut).flatMap((d) => second.add(d).rows), ...[second.flush()].filter((r): r is PackedRow => r !== null));
    assert.deepEqual(rows.map(plain), expected, `cut after ${cut} documents`);
  }
});
