/** Where a prepared corpus and its shard files are on this worker. */
import { join } from 'node:path';
import type { CorpusShardPlan } from '../../schemas/corpus.js';
import type { CorpusSummary, StageResult } from '../../schemas/pipeline.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';

/** The corpus folder of a `prepareCorpus` result, wherever this worker keeps its data. */
export function corpusPathOf(store: ArtifactStore, corpus: StageResult<CorpusSummary>): string {
  return corpus.ref.stage === 'corpus' ? store.pathOf(corpus.ref) : corpus.summary.corpusPath;
}

/**
 * The file of a shard plan on this worker: the demo corpus lives in the data directory, which
 * may be mounted at another path here than where the plan was made.
 */
export function planFileOf(store: ArtifactStore, corpus: StageResult<CorpusSummary>, plan: CorpusShardPlan): string {
  return corpus.ref.stage === 'corpus' ? join(corpusPathOf(store, corpus), plan.relPath) : plan.file;
}
