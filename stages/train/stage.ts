/** trainSae: one SAE variant; a retried attempt resumes from the checkpoint in its work folder. */
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { SpecRef } from '../../schemas/pipeline.js';
import { trainConfigFor, type RunSpec } from '../../schemas/run-spec.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { trainDataOf } from '../extract/activation-sets.js';
import { trainSae, type TrainSummary } from './train-sae.js';

export interface TrainStageInput {
  spec: SpecRef;
  variantIndex: number;
  /** Extraction set of the training activations. */
  trainSet: ArtifactRef;
}

export const trainStage = defineStage<TrainStageInput, TrainSummary>({
  name: 'train',
  module: import.meta.url,
  resources: 'compute',
  cached: true,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    // The device enters the key off the CPU: CUDA kernels (TF32 matmuls) give other bytes.
    const device = deps.device === 'cpu' ? {} : { device: deps.device };
    return { config: { train: trainConfigFor(spec, input.variantIndex), seed: seedOf(spec, input.variantIndex), salt: spec.cacheSalt ?? null, ...device }, inputs: [input.trainSet.key] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const config = trainConfigFor(spec, input.variantIndex);
    return trainSae({ data: await trainDataOf(deps.store, input.trainSet), config, seed: seedOf(spec, input.variantIndex), device: deps.device, threads: spec.threads }, workDir, ctx);
  },
});

/** A variant's own seed, else the spec's. */
function seedOf(spec: RunSpec, variantIndex: number): number {
  return spec.sae.variants[variantIndex].seed ?? spec.seed;
}
