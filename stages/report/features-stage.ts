/** collectFeatures: feature-browser data of one SAE (top contexts, histograms, logit effects per latent). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { ModelSummary, SpecRef, StageResult } from '../../schemas/pipeline.js';
import type { FeatureBrowserVariant } from '../../schemas/report.js';
import { writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { evalTokenizer } from '../evaluate/eval-tokenizer.js';
import { evalTableOf } from '../extract/activation-sets.js';
import { modelDirOf } from '../model/model-paths.js';
import { readUnembedding } from '../model/unembedding.js';
import { loadImportedSae } from '../external-sae/imported-sae-runtime.js';
import { collectFeatureBrowserData } from './feature-browser-data.js';
import { FEATURES_FILE } from './feature-files.js';


export interface FeaturesStageInput {
  spec: SpecRef;
  sae: ArtifactRef;
  model: StageResult<ModelSummary>;
  evalSet: ArtifactRef;
  /** The temporal eval's artifact, whose clusters colour the browser (null when it did not run). */
  temporal: ArtifactRef | null;
}

export const featuresStage = defineStage<FeaturesStageInput, { file: string; latents: number; tokensScanned: number }>({
  name: 'features',
  module: import.meta.url,
  resources: 'compute',
  cached: true,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    return { config: { layer: spec.model.layer }, inputs: [input.sae.key, input.model.ref.key, input.evalSet.key, input.temporal?.key ?? 'no-temporal'] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const modelDir = modelDirOf(deps.dataDir, input.model);
    const sae = await loadImportedSae(deps.store.pathOf(input.sae), { device: deps.device, threads: spec.threads });
    try {
      const [table, tokenizer, unembedding, clusters] = await Promise.all([
        evalTableOf(deps.store, input.evalSet),
        evalTokenizer(modelDir),
        readUnembedding(modelDir),
        input.temporal ? temporalClusters(deps.store.pathOf(input.temporal)) : Promise.resolve(undefined),
      ]);
      const vocab = tokenizer.vocab();
      const features: FeatureBrowserVariant = await collectFeatureBrowserData(
        { encoder: sae, table, decode: (ids) => ids.map((id) => vocab[id] ?? `<${id}>`), unembed: { values: unembedding.weights, vocab: unembedding.vocabSize }, clusters },
        ctx,
      );
      await writeJsonAtomic(join(workDir, FEATURES_FILE), features);
      return { file: FEATURES_FILE, latents: features.latents.length, tokensScanned: features.tokensScanned };
    } finally {
      await sae.dispose();
    }
  },
});

/** Latent -> cluster id from the temporal eval's output, when it clustered. */
async function temporalClusters(dir: string): Promise<Map<number, number> | undefined> {
  const output = JSON.parse(await readFile(join(dir, 'temporal.json'), 'utf8')) as { analysis?: { features?: number[]; clusters?: number[] } | null };
  const analysis = output.analysis;
  if (!analysis?.features || !analysis.clusters) return undefined;
  return new Map(analysis.features.map((latent, i) => [latent, analysis.clusters![i]]));
}
