/** extractShard: residual-stream activations of one row range of one token shard split (resumable by part). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizeShardSummary } from '../../schemas/corpus.js';
import type { ExtractSummary } from '../../schemas/model.js';
import type { ExtractUnit, ModelSummary, PlanItemRef, SpecRef, StageResult } from '../../schemas/pipeline.js';
import type { TokenRow } from '../../schemas/token-shard.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { graphDirOf, modelDirOf } from '../model/model-paths.js';
import { extractPlanItem } from '../plan/extract-plan-stage.js';
import { SHARD_MANIFEST_FILE } from '../tokenize/tokenize-shard.js';
import { readTokenShard } from '../tokenize/token-shard.js';
import { defaultComputeDtype, extractActivations } from './extract.js';

export interface ExtractStageInput {
  spec: SpecRef;
  model: StageResult<ModelSummary>;
  unit: PlanItemRef;
}

/** What a workflow and an extraction set keep of a unit: its counts, not this attempt's timing or its part list. */
export type ExtractResult = Omit<ExtractSummary, 'tokensPerSecond' | 'resumedFromRows' | 'parts'>;

export const extractStage = defineStage<ExtractStageInput, ExtractSummary, ExtractResult>({
  name: 'extract',
  module: import.meta.url,
  resources: 'compute',
  cached: true,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    const unit = await extractPlanItem(deps.store, input.unit.plan, input.unit.index);
    const config = {
      unit: { tokenShard: unit.tokenShard.key, split: unit.split, rowStart: unit.rowStart, rowEnd: unit.rowEnd },
      modelHash: input.model.summary.modelHash,
      layer: spec.model.layer,
      dtype: spec.extract.dtype,
      batchSize: spec.extract.batchSize,
      // Half-precision MatMuls on cuda give other bytes than CPU's float32: another artifact.
      // Left out for float32 so CPU keys stay what they were.
      ...(defaultComputeDtype(deps.device) === 'float32' ? {} : { compute: defaultComputeDtype(deps.device) }),
    };
    return { config, inputs: [unit.tokenShard.key, input.model.ref.key] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const unit = await extractPlanItem(deps.store, input.unit.plan, input.unit.index);
    return extractActivations(
      {
        modelDir: modelDirOf(deps.dataDir, input.model),
        layer: spec.model.layer,
        rows: splitRows(deps.store, unit),
        totalRows: unit.rowEnd - unit.rowStart,
        dtype: spec.extract.dtype,
        batchSize: spec.extract.batchSize,
        device: deps.device,
        intraOpThreads: spec.threads,
        graphDir: graphDirOf(deps.dataDir, input.model),
      },
      workDir,
      ctx,
    );
  },
  // Sets are artifacts too: what they hold must be the same for every run that makes the same unit.
  result: ({ tokensPerSecond: _rate, resumedFromRows: _resumed, parts: _parts, ...counts }) => counts,
});

/** Rows [rowStart, rowEnd) among the rows of one split of a token shard, streamed file by file. */
export async function* splitRows(store: ArtifactStore, unit: ExtractUnit): AsyncGenerator<TokenRow> {
  const dir = store.pathOf(unit.tokenShard);
  const manifest = JSON.parse(await readFile(join(dir, SHARD_MANIFEST_FILE), 'utf8')) as TokenizeShardSummary;
  let index = 0;
  for (const file of manifest.files) {
    for await (const row of readTokenShard(join(dir, file.path))) {
      if (row.split !== unit.split) continue;
      if (index >= unit.rowStart && index < unit.rowEnd) yield row;
      index += 1;
      if (index >= unit.rowEnd) return;
    }
  }
}
