import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageResult, TokenShardSummary } from '../../../schemas/pipeline.js';
import { ArtifactStore } from '../../../lib/artifacts/store.js';
import { readJsonArtifact } from '../../../lib/artifacts/json-artifact.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { silentLogger } from '../../../lib/core/logger.js';
import { storeSpec } from '../../../lib/stage/spec-ref.js';
import { presetSpec } from '../../../lib/spec/resolve-spec.js';
import { writeSetStage } from '../../../stages/plan/artifact-sets.js';
import { planExtractionStage } from '../../../stages/plan/extract-plan-stage.js';
import type { ExtractUnit } from '../../../schemas/pipeline.js';

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

test('extraction units cover the budgets exactly, in shard order, at most rowsPerShard rows each, stored as a plan artifact', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-plan-'));
  try {
    const store = new ArtifactStore(dataDir);
    const deps = { store, dataDir, device: 'cpu' as const, log: silentLogger };
    const spec = await storeSpec(store, presetSpec('demo', { 'tokens.train': 25_000, 'tokens.eval': 1_500, 'extract.rowsPerShard': 100, 'corpus.source': 'test' }));
    const work = { workDir: '', resuming: false };
    const ctx = defaultStageContext();
    const setA = await writeSetStage.run({ spec, kind: 'tokenize', items: [shard('a', 150, 10)] as never }, deps, work, ctx);
    const setB = await writeSetStage.run({ spec, kind: 'tokenize', items: [shard('b', 300, 10)] as never }, deps, work, ctx);
    const plan = await planExtractionStage.run({ spec, tokenShards: [setA.set, setB.set] }, deps, work, ctx);
    assert.deepEqual(plan.units, { train: 3, eval: 2 });
    const units = await readJsonArtifact<ExtractUnit[]>(store, plan.plan);
    assert.deepEqual(
      units.slice(0, 3).map((u) => [u.tokenShard.key, u.rowStart, u.rowEnd]),
      [['a', 0, 100], ['a', 100, 150], ['b', 0, 100]],
    );
    assert.deepEqual(units.slice(3).map((u) => [u.tokenShard.key, u.split, u.rowStart, u.rowEnd]), [['a', 'test', 0, 10], ['b', 'test', 0, 5]]);
    // The same inputs give the same plan artifact (content-addressed).
    const again = await planExtractionStage.run({ spec, tokenShards: [setA.set, setB.set] }, deps, work, ctx);
    assert.equal(again.plan.key, plan.plan.key);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
