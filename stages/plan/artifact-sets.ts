/**
 * Artifact sets: one content-addressed JSON document listing the results of a fan-out (every
 * tokenized shard, every activation part). Workflows pass the set's reference, so no workflow
 * input, result or history grows with the number of shards.
 */
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { SetSummary, StageResult, SpecRef } from '../../schemas/pipeline.js';
import { readJsonArtifact, storeJsonArtifact } from '../../lib/artifacts/json-artifact.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { defineStage } from '../../lib/stage/stage-definition.js';

export interface ArtifactSet {
  kind: string;
  /** Each unit's artifact and summary (not whether it was a cache hit: a set is addressed by content). */
  items: Pick<StageResult<Record<string, unknown>>, 'ref' | 'summary'>[];
}

export interface WriteSetInput {
  spec: SpecRef;
  kind: string;
  items: StageResult<Record<string, unknown>>[];
}

export interface MergeSetsInput {
  spec: SpecRef;
  kind: string;
  sets: ArtifactRef[];
}

export type SetResult = SetSummary & { set: ArtifactRef };

/** Sums every finite number in the items' summaries (tokens, rows, ...), key by key. */
export function sumTotals(summaries: Record<string, unknown>[]): Record<string, number> {
  const totals: Record<string, number> = {};
  const add = (prefix: string, value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) totals[prefix] = (totals[prefix] ?? 0) + value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) add(prefix ? `${prefix}.${k}` : k, v);
  };
  for (const summary of summaries) add('', summary);
  return totals;
}

export function readArtifactSet(store: ArtifactStore, ref: ArtifactRef): Promise<ArtifactSet> {
  return readJsonArtifact<ArtifactSet>(store, ref);
}

/**
 * A set is addressed by the keys of its items, in order, not by their summaries: those carry
 * measurements (durations, rates) that differ between two runs making the same artifacts.
 */
async function storeSet(store: ArtifactStore, set: ArtifactSet): Promise<SetResult> {
  const totals = sumTotals(set.items.map((i) => i.summary));
  const address = { kind: set.kind, items: set.items.map((i) => i.ref.key) };
  const ref = await storeJsonArtifact(store, 'set', set, { count: set.items.length, totals }, address);
  return { set: ref, count: set.items.length, totals };
}

/** Stores the results a fan-out leaf collected as one set. */
export const writeSetStage = defineStage<WriteSetInput, SetResult>({
  name: 'set',
  module: import.meta.url,
  resources: 'light',
  cached: false,
  run: (input, deps) => storeSet(deps.store, { kind: input.kind, items: input.items.map(({ ref, summary }) => ({ ref, summary })) }),
  refOf: (summary) => summary.set,
});

/** Concatenates the sets of a fan-out's branches, in order. */
export const mergeSetsStage = defineStage<MergeSetsInput, SetResult>({
  name: 'set',
  module: import.meta.url,
  resources: 'light',
  cached: false,
  run: async (input, deps) => {
    const parts = await Promise.all(input.sets.map((ref) => readArtifactSet(deps.store, ref)));
    return storeSet(deps.store, { kind: input.kind, items: parts.flatMap((p) => p.items) });
  },
  refOf: (summary) => summary.set,
});
