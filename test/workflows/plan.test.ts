import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetsMet, splitRange, tokenizeWaveSize } from '../../workflows/plan.js';
import { presetSpec } from '../../lib/spec/resolve-spec.js';

test('budgets are met only when both the train and the test split cover theirs', () => {
  const spec = presetSpec('demo', { 'tokens.train': 25_000, 'tokens.eval': 1_500, 'corpus.source': 'test' });
  assert.equal(budgetsMet({ train: 24_999, test: 2_000 }, spec), false);
  assert.equal(budgetsMet({ train: 25_000, test: 1_499 }, spec), false);
  assert.equal(budgetsMet({ train: 25_000, test: 1_500 }, spec), true);
});

test('a tokenize wave is sized to what the budgets still need, honouring the per-shard token cap', () => {
  const spec = presetSpec('paper', { 'corpus.source': 'test' });
  // 1M-token cap per shard; 10M train tokens at a 0.7 train share need about 15 shards (+25%).
  const first = tokenizeWaveSize({ meanBytes: 400_000_000, compressedShare: 1 }, { train: 0, test: 0 }, spec);
  assert.ok(first >= 15 && first <= 20, `first wave ${first}`);
  const later = tokenizeWaveSize({ meanBytes: 400_000_000, compressedShare: 1 }, { train: 9_500_000, test: 5_000_000 }, spec);
  assert.ok(later < first && later >= 1, `later wave ${later}`);
});

test('a fan-out range splits into at most `batch` contiguous children, each at most batch^depth units', () => {
  assert.equal(splitRange(0, 200, 200), null);
  const two = splitRange(0, 5000, 200)!;
  assert.equal(two.length, 25);
  assert.deepEqual(two[0], { start: 0, end: 200 });
  assert.deepEqual(two.at(-1), { start: 4800, end: 5000 });
  const deep = splitRange(10, 10 + 100_000, 200)!;
  assert.ok(deep.length <= 200);
  assert.equal(deep[0].end - deep[0].start, 40_000);
  // Ranges cover [start, end) exactly, without gaps or overlaps.
  assert.equal(deep[0].start, 10);
  deep.slice(1).forEach((r, i) => assert.equal(r.start, deep[i].end));
  assert.equal(deep.at(-1)!.end, 100_010);
});
