/** planCorpus: the corpus split into independent shards, stored as a plan artifact (one JSON array). */
import type { CorpusShardPlan } from '../../schemas/corpus.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { CorpusSummary, SpecRef, StageResult } from '../../schemas/pipeline.js';
import { readJsonArtifact, storeJsonArtifact } from '../../lib/artifacts/json-artifact.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { planCorpusShards } from '../corpus/plan-shards.js';
import { corpusPathOf } from '../corpus/corpus-paths.js';

export interface CorpusPlanSummary {
  plan: ArtifactRef;
  /** Number of shards. */
  count: number;
  /** Mean bytes per shard, as stored (compressed for .zst). */
  meanBytes: number;
  /** Share of shards that are zstd-compressed (their text is about 3x their bytes). */
  compressedShare: number;
}

export const planCorpusStage = defineStage<{ spec: SpecRef; corpus: StageResult<CorpusSummary> }, CorpusPlanSummary>({
  name: 'corpus-plan',
  module: import.meta.url,
  resources: 'light',
  // A user's corpus folder may gain files: list it every time; the plan itself is content-addressed.
  cached: false,
  run: async (input, deps, _work, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { source: _source, ...corpusConfig } = spec.corpus;
    ctx.onProgress({ stage: 'corpus-plan', done: 0, total: 1, unit: 'plans' });
    const plans = await planCorpusShards({ ...corpusConfig, path: corpusPathOf(deps.store, input.corpus) });
    const plan = await storeJsonArtifact(deps.store, 'corpus-plan', plans);
    ctx.onProgress({ stage: 'corpus-plan', done: 1, total: 1, unit: 'plans' });
    const count = plans.length;
    return {
      plan,
      count,
      meanBytes: count ? plans.reduce((s, p) => s + p.bytes, 0) / count : 0,
      compressedShare: count ? plans.filter((p) => p.format === 'jsonl.zst').length / count : 0,
    };
  },
  refOf: (summary) => summary.plan,
});

/** One shard plan of a stored corpus plan. */
export async function corpusPlanItem(store: ArtifactStore, ref: ArtifactRef, index: number): Promise<CorpusShardPlan> {
  const plans = await readJsonArtifact<CorpusShardPlan[]>(store, ref);
  const plan = plans[index];
  if (!plan) throw new Error(`corpus plan ${ref.path} has no shard ${index} (it has ${plans.length})`);
  return plan;
}
