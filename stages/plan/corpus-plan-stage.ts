/**
 * planCorpus: the corpus split into independent shards, stored as a plan artifact
 * (corpus-plan.jsonl with a line index, stages/corpus/plan-file.ts) addressed by its content.
 * The workflow gets the reference and counts; each tokenize activity reads its own line.
 */
import type { CorpusShardPlan } from '../../schemas/corpus.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { CorpusSummary, SpecRef, StageResult } from '../../schemas/pipeline.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { canonicalJson, sha256Hex } from '../../lib/core/atomic-fs.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { corpusPathOf } from '../corpus/corpus-paths.js';
import { readCorpusPlanSlice, writeCorpusPlan } from '../corpus/plan-file.js';
import { planCorpusShards } from '../corpus/plan-shards.js';

export interface CorpusPlanStageSummary {
  plan: ArtifactRef;
  /** Number of shards. */
  count: number;
  /** Mean bytes per shard, as stored (compressed for .zst). */
  meanBytes: number;
  /** Share of the bytes that are zstd-compressed (their text is about 3x their bytes). */
  compressedShare: number;
}

export const planCorpusStage = defineStage<{ spec: SpecRef; corpus: StageResult<CorpusSummary> }, CorpusPlanStageSummary>({
  name: 'corpus-plan',
  module: import.meta.url,
  resources: 'light',
  // A user's corpus folder may gain files: it is listed every time; the plan itself is stored by content.
  cached: false,
  run: async (input, deps, _work, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { source: _source, ...corpusConfig } = spec.corpus;
    ctx.onProgress({ stage: 'corpus-plan', done: 0, total: 1, unit: 'plans' });
    const plans = await planCorpusShards({ ...corpusConfig, path: corpusPathOf(deps.store, input.corpus) });
    const stored = await deps.store.produce({ stage: 'corpus-plan', codeVersion: 'content', config: { sha256: sha256Hex(canonicalJson(plans)) }, inputs: [] }, ({ workDir }) => writeCorpusPlan(plans, workDir), {
      waitForLock: true,
      signal: ctx.signal,
    });
    ctx.onProgress({ stage: 'corpus-plan', done: 1, total: 1, unit: 'plans' });
    const formats = Object.values(stored.manifest.summary.formats);
    const bytes = formats.reduce((s, f) => s + f.bytes, 0);
    const compressed = stored.manifest.summary.formats['jsonl.zst']?.bytes ?? 0;
    return { plan: stored.ref, count: plans.length, meanBytes: plans.length ? bytes / plans.length : 0, compressedShare: bytes ? compressed / bytes : 0 };
  },
  refOf: (summary) => summary.plan,
});

/** One shard plan of a stored corpus plan. */
export async function corpusPlanItem(store: ArtifactStore, ref: ArtifactRef, index: number): Promise<CorpusShardPlan> {
  const [plan] = await readCorpusPlanSlice(store.pathOf(ref), index, 1);
  if (!plan) throw new Error(`corpus plan ${ref.path} has no shard ${index}`);
  return plan;
}
