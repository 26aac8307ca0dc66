/** Model preparation and activation extraction activities. */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizeShardSummary } from '../schemas/corpus.js';
import type { ExtractSummary } from '../schemas/model.js';
import { REGISTRY_MODELS } from '../schemas/model.js';
import type { ExtractUnit, ModelSummary, StageResult } from '../schemas/pipeline.js';
import type { RunSpec } from '../schemas/run-spec.js';
import type { TokenRow } from '../schemas/token-shard.js';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import { TsaeError } from '../lib/core/errors.js';
import { extractActivations } from '../stages/extract/extract.js';
import { loadModelFolder, modelHash } from '../stages/model/model-folder.js';
import { prepareModel } from '../stages/model/prepare-model.js';
import { SHARD_MANIFEST_FILE } from '../stages/tokenize/tokenize-shard.js';
import { readTokenShard } from '../stages/tokenize/token-shard.js';
import { modelDirOf } from './corpus.js';
import { runStageActivity, toApplicationFailure } from './run-stage.js';
import type { WorkerDeps } from './index.js';

const MODEL_CODE_VERSION = 'model@1';
const EXTRACT_CODE_VERSION = 'extract@1';

/** Where derived prefix/suffix graphs of a model go: the data directory, never the model folder. */
export function graphDirOf(dataDir: string, model: StageResult<ModelSummary>): string {
  return join(dataDir, 'graphs', model.summary.modelHash.slice(0, 16));
}

export function createModelActivities(deps: WorkerDeps) {
  return {
    /**
     * A model folder ready for extraction: a user folder in the transformers.js layout is used
     * in place; a registry name, GGUF file or hub id is converted once into a cached artifact.
     */
    async prepareModel(input: { spec: RunSpec }): Promise<StageResult<ModelSummary>> {
      const source = input.spec.model.source;
      if (existsSync(source) && statSync(source).isDirectory()) {
        try {
          const folder = await loadModelFolder(source);
          checkLayer(input.spec.model.layer, folder.meta.numLayers, source);
          const hash = await modelHash(folder);
          const summary: ModelSummary = { modelDir: source, modelHash: hash, architecture: folder.meta.architecture, dModel: folder.meta.dModel, nLayers: folder.meta.numLayers, vocabSize: folder.meta.vocabSize };
          return { ref: { stage: 'model-external', key: hash.slice(0, 32), path: '' }, summary, cacheHit: true };
        } catch (error) {
          throw toApplicationFailure(error);
        }
      }
      const result = await runStageActivity(deps, { stage: 'model', codeVersion: MODEL_CODE_VERSION, config: { source, registry: (REGISTRY_MODELS as readonly string[]).includes(source) }, inputs: [] }, async ({ workDir }, ctx) => {
        const prepared = await prepareModel({ source, out: workDir, threads: input.spec.threads || undefined }, ctx);
        return { modelHash: prepared.modelHash, architecture: prepared.architecture, dModel: prepared.dModel, nLayers: prepared.numLayers, vocabSize: prepared.vocabSize } as Omit<ModelSummary, 'modelDir'>;
      });
      try {
        checkLayer(input.spec.model.layer, result.summary.nLayers, source);
      } catch (error) {
        throw toApplicationFailure(error);
      }
      return { ...result, summary: { ...result.summary, modelDir: result.ref.path } };
    },

    /** Residual-stream activations of one row range of one token shard split (resumable by part). */
    async extractShard(input: { spec: RunSpec; model: StageResult<ModelSummary>; unit: ExtractUnit }): Promise<StageResult<ExtractSummary>> {
      const { spec, model, unit } = input;
      const config = {
        unit: { tokenShard: unit.tokenShard.key, split: unit.split, rowStart: unit.rowStart, rowEnd: unit.rowEnd },
        modelHash: model.summary.modelHash,
        layer: spec.model.layer,
        dtype: spec.extract.dtype,
        batchSize: spec.extract.batchSize,
        scaling: 'none' as const,
      };
      return runStageActivity(deps, { stage: 'extract', codeVersion: EXTRACT_CODE_VERSION, config, inputs: [unit.tokenShard.key, model.ref.key] }, async ({ workDir }, ctx) =>
        extractActivations(
          {
            modelDir: modelDirOf(deps.store, model),
            layer: spec.model.layer,
            rows: splitRows(deps.store, unit),
            totalRows: unit.rowEnd - unit.rowStart,
            dtype: spec.extract.dtype,
            batchSize: spec.extract.batchSize,
            device: deps.device,
            scaling: 'none' as const,
            intraOpThreads: spec.threads,
            graphDir: graphDirOf(deps.dataDir, model),
          },
          workDir,
          ctx,
        ),
      );
    },
  };
}

function checkLayer(layer: number, numLayers: number, source: string): void {
  if (layer >= numLayers) {
    throw new TsaeError('BAD_CONFIG', `model.layer ${layer} is out of range: ${source} has ${numLayers} blocks (0..${numLayers - 1})`, { details: { field: 'model.layer' } });
  }
}

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
