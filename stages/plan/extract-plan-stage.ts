/**
 * planExtraction: which rows of which token shards to run through the model. Training rows come
 * from the `train` split until the training budget is met, held-out rows from the `test` split
 * until the eval budget is met; each unit is at most `extract.rowsPerShard` rows. The units are
 * stored as a plan artifact (training units first, then eval units).
 */
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { ExtractUnit, SpecRef, StageResult, TokenShardSummary } from '../../schemas/pipeline.js';
import { readJsonArtifact, storeJsonArtifact } from '../../lib/artifacts/json-artifact.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { trainBudget } from '../../schemas/derived.js';
import { readArtifactSet } from './artifact-sets.js';

export interface ExtractPlanSummary {
  plan: ArtifactRef;
  /** Units for training (plan indices [0, train)) and for evaluation ([train, train + eval)). */
  units: { train: number; eval: number };
  tokens: { train: number; eval: number };
}

export const planExtractionStage = defineStage<{ spec: SpecRef; tokenShards: ArtifactRef[] }, ExtractPlanSummary>({
  name: 'extract-plan',
  module: import.meta.url,
  resources: 'light',
  cached: false,
  run: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    const sets = await Promise.all(input.tokenShards.map((ref) => readArtifactSet(deps.store, ref)));
    const shards = sets.flatMap((s) => s.items) as unknown as StageResult<TokenShardSummary>[];
    // With no variant to train (only external SAEs to evaluate), no training rows are extracted.
    const train = takeRows(shards, 'train', 'train', trainBudget(spec), spec.extract.rowsPerShard);
    const evaluation = takeRows(shards, 'test', 'eval', spec.tokens.eval, spec.extract.rowsPerShard);
    const plan = await storeJsonArtifact(deps.store, 'extract-plan', [...train.units, ...evaluation.units]);
    return { plan, units: { train: train.units.length, eval: evaluation.units.length }, tokens: { train: train.tokens, eval: evaluation.tokens } };
  },
  refOf: (summary) => summary.plan,
});

function takeRows(
  shards: StageResult<TokenShardSummary>[],
  split: ExtractUnit['split'],
  purpose: ExtractUnit['purpose'],
  tokenBudget: number,
  rowsPerUnit: number,
): { units: ExtractUnit[]; tokens: number } {
  const units: ExtractUnit[] = [];
  let tokens = 0;
  for (const shard of shards) {
    const rows = shard.summary.rowsBySplit[split];
    if (rows === 0) continue;
    const tokensPerRow = shard.summary.tokensBySplit[split] / rows;
    for (let start = 0; start < rows && tokens < tokenBudget; start += rowsPerUnit) {
      const wanted = Math.ceil((tokenBudget - tokens) / tokensPerRow);
      const end = Math.min(rows, start + rowsPerUnit, start + wanted);
      units.push({ tokenShard: shard.ref, split, rowStart: start, rowEnd: end, purpose });
      tokens += (end - start) * tokensPerRow;
    }
    if (tokens >= tokenBudget) break;
  }
  return { units, tokens: Math.round(tokens) };
}

/** One unit of a stored extraction plan. */
export async function extractPlanItem(store: ArtifactStore, ref: ArtifactRef, index: number): Promise<ExtractUnit> {
  const units = await readJsonArtifact<ExtractUnit[]>(store, ref);
  const unit = units[index];
  if (!unit) throw new Error(`extraction plan ${ref.path} has no unit ${index} (it has ${units.length})`);
  return unit;
}
