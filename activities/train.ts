/** SAE training activity: a thin wrapper over stages/train. */
import type { ArtifactRef } from '../schemas/manifest.js';
import type { StageResult } from '../schemas/pipeline.js';
import { trainConfigFor, type RunSpec } from '../schemas/run-spec.js';
import { trainSae, type TrainSummary } from '../stages/train/train-sae.js';
import { trainDataOf } from './activation-data.js';
import type { WorkerDeps } from './index.js';
import { runStageActivity } from './run-stage.js';

const TRAIN_CODE_VERSION = 'train@1';

export function createTrainActivities(deps: WorkerDeps) {
  return {
    /** Trains one SAE variant; a retried attempt resumes from the checkpoint in its work folder. */
    async trainSae(input: { spec: RunSpec; variantIndex: number; trainShards: ArtifactRef[] }): Promise<StageResult<TrainSummary>> {
      const { spec, variantIndex } = input;
      const config = trainConfigFor(spec, variantIndex);
      return runStageActivity(
        deps,
        { stage: 'train', codeVersion: TRAIN_CODE_VERSION, config: { train: config, seed: spec.seed }, inputs: input.trainShards.map((r) => r.key) },
        async ({ workDir }, ctx) => trainSae({ data: await trainDataOf(deps.store, input.trainShards), config, seed: spec.seed, device: deps.device, threads: spec.threads }, workDir, ctx),
      );
    },
  };
}
