/**
 * prepareModel: a model folder ready for extraction. A user folder in the transformers.js
 * layout is used in place (its content hash keys everything downstream); a registry name,
 * GGUF file or hub id is converted once into a cached artifact.
 */
import { existsSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { ModelSummary, SpecRef } from '../../schemas/pipeline.js';
import { REGISTRY_MODELS } from '../../schemas/model.js';
import { TsaeError } from '../../lib/core/errors.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { loadModelFolder, modelHash } from './model-folder.js';
import { prepareModel } from './prepare-model.js';

export const modelStage = defineStage<{ spec: SpecRef }, ModelSummary>({
  name: 'model',
  module: import.meta.url,
  // The converter is Python code the stage runs: its scripts and pins are part of its version.
  assets: ['infra/python-runtime/prepare_model.py', 'infra/python-runtime/onnx_export.py', 'infra/python-runtime/requirements-prepare.txt'],
  resources: 'cpu',
  cached: true,
  // Conversion runs one Python process that reports a handful of steps minutes apart.
  stallSeconds: 3600,
  passthrough: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    const source = spec.model.source;
    if (!(existsSync(source) && statSync(source).isDirectory())) return null;
    const folder = await loadModelFolder(source);
    checkLayer(spec.model.layer, folder.meta.numLayers, source);
    const hash = await modelHash(folder);
    const summary: ModelSummary = { modelDir: source, modelHash: hash, architecture: folder.meta.architecture, dModel: folder.meta.dModel, nLayers: folder.meta.numLayers, vocabSize: folder.meta.vocabSize };
    return { ref: { stage: 'model-external', key: hash.slice(0, 32), path: '' }, summary, cacheHit: true };
  },
  keyOf: async (input, deps) => {
    const source = (await loadSpec(deps.store, input.spec)).model.source;
    return { config: { source, registry: (REGISTRY_MODELS as readonly string[]).includes(source) }, inputs: [] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const prepared = await prepareModel({ source: spec.model.source, out: workDir, threads: spec.threads || undefined }, ctx);
    // Data-relative (the final folder, not the work folder), so a data directory mounted at
    // another path still finds it.
    const modelDir = relative(deps.dataDir, workDir).replace(/\.work$/, '').split(sep).join('/');
    return { modelDir, modelHash: prepared.modelHash, architecture: prepared.architecture, dModel: prepared.dModel, nLayers: prepared.numLayers, vocabSize: prepared.vocabSize };
  },
  // Also on a cache hit: the same converted model may be asked for another layer.
  check: async (result, input, deps) => checkLayer((await loadSpec(deps.store, input.spec)).model.layer, result.summary.nLayers, result.summary.modelDir),
});

function checkLayer(layer: number, numLayers: number, source: string): void {
  if (layer >= numLayers) {
    throw new TsaeError('BAD_CONFIG', `model.layer ${layer} is out of range: ${source} has ${numLayers} blocks (0..${numLayers - 1})`, { details: { field: 'model.layer' } });
  }
}
