/**
 * importExternalSae: an SAE trained elsewhere (spec `sae.external[index]`), checked against the
 * prepared model (d_in vs d_model, hook vs layer) and imported into our SAE folder layout. Its
 * cache key is the content of its files (sha256), never its path: the same bytes anywhere give
 * the same artifact, and one changed byte gives a new one.
 */
import type { ExternalSaeInfo } from '../../schemas/external-sae.js';
import type { ModelSummary, SpecRef, StageResult } from '../../schemas/pipeline.js';
import { badInput } from '../../lib/core/errors.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage, type StageDeps } from '../../lib/stage/stage-definition.js';
import { importExternalSae } from './import-external-sae.js';
import { inspectExternalSae } from './inspect-external-sae.js';

export interface ExternalSaeStageInput {
  spec: SpecRef;
  /** Index into the spec's `sae.external`. */
  index: number;
  model: StageResult<ModelSummary>;
}

async function optionsOf(input: ExternalSaeStageInput, deps: StageDeps) {
  const spec = await loadSpec(deps.store, input.spec);
  const entry = spec.sae.external[input.index];
  return { entry, options: { format: entry.format, hookName: entry.hookName, layer: spec.model.layer, dModel: input.model.summary.dModel } };
}

export const externalSaeStage = defineStage<ExternalSaeStageInput, Omit<ExternalSaeInfo, 'path'> & { source: string }>({
  name: 'external-sae',
  module: import.meta.url,
  resources: 'cpu',
  cached: true,
  keyOf: async (input, deps) => {
    const { entry, options } = await optionsOf(input, deps);
    const info = await inspectExternalSae(entry.path, options);
    return { config: { sha256: info.sha256, format: info.format, layer: options.layer, dModel: options.dModel, hookName: entry.hookName ?? null }, inputs: [] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const { entry, options } = await optionsOf(input, deps);
    ctx.onProgress({ stage: 'external-sae', item: entry.name, done: 0, total: 1, unit: 'SAEs' });
    const expected = (await inspectExternalSae(entry.path, options)).sha256;
    const { path, ...info } = await importExternalSae(entry.path, workDir, options);
    if (info.sha256 !== expected) throw badInput(`${entry.path}: the folder changed while it was imported (sha256 ${expected.slice(0, 12)} then ${info.sha256.slice(0, 12)}); import it again when it is complete`, { field: `sae.external.${input.index}.path` });
    ctx.onProgress({ stage: 'external-sae', item: entry.name, done: 1, total: 1, unit: 'SAEs' });
    return { ...info, source: path };
  },
});
