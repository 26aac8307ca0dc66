import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetsMet, planExtraction } from '../../workflows/plan.js';
import { presetSpec } from '../../lib/spec/resolve-spec.js';
import type { StageResult, TokenShardSummary } from '../../schemas/pipeline.js';

function shard(key: string, trainRows: number, testRows: number, tokensPerRow = 100): StageResult<TokenShardSummary> {
  return {
    ref: { stage: 'tokenize', key, path: `artifacts/tokenize/${key}` },
    cacheHit: false,
    summary: {
      rows: trainRows + testRows,
      tokens: (trainRows + testRows) * tokensPerRow,
      rowsBySplit: { train: trainRows, val: 0, test: testRows },
      tokensBySplit: { train: trainRows * tokensPerRow, val: 0, test: testRows * tokensPerRow },
      skipped: 0,
    },
  };
}

test('extraction units cover the budgets exactly, in shard order, at most rowsPerShard rows each', () => {
  const spec = presetSpec('demo', { 'tokens.train': 25_000, 'tokens.eval': 1_500, 'extract.rowsPerShard': 100, 'corpus.source': 'test' });
  const units = planExtraction([shard('a', 150, 10), shard('b', 300, 10)], spec);
  const train = units.filter((u) => u.purpose === 'train');
  assert.deepEqual(
    train.map((u) => [u.tokenShard.key, u.rowStart, u.rowEnd]),
    [['a', 0, 100], ['a', 100, 150], ['b', 0, 100]],
  );
  const evalUnits = units.filter((u) => u.purpose === 'eval');
  assert.deepEqual(evalUnits.map((u) => [u.tokenShard.key, u.split, u.rowStart, u.rowEnd]), [['a', 'test', 0, 10], ['b', 'test', 0, 5]]);
  assert.equal(budgetsMet([shard('a', 150, 10)], spec), false);
  assert.equal(budgetsMet([shard('a', 150, 10), shard('b', 300, 10)], spec), true);
});
