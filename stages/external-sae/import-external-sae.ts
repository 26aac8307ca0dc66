/**
 * importExternalSae: an external checkpoint written as an SAE folder of our own layout, so the
 * evaluation stage loads it like a trained one (stages/train/sae-runtime.ts loadSae):
 *   sae.safetensors (+ hard link sae_weights.safetensors)  float32 weights in SAELens names, folded
 *   cfg.json       SAELens 6 fields (SAELens itself loads the folder) + metadata.external provenance
 *   source.json    ExternalSaeInfo without the local path, so equal inputs give equal bytes
 * Run-time normalisation (constant_norm_rescale, layer_norm) stays in cfg.json's
 * normalize_activations; loadImportedSae applies it around loadSae.
 */
import { link, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExternalSaeInfo } from '../../schemas/external-sae.js';
import { writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { architectureWeights } from '../train/forward-graph.js';
import { SAELENS_FORMAT_VERSION } from '../train/export-sae.js';
import { writeSafetensors } from '../train/safetensors.js';
import { readExternalSae, type InspectOptions } from './inspect-external-sae.js';

export const IMPORTED_WEIGHTS = 'sae.safetensors';
export const IMPORTED_WEIGHTS_ALIAS = 'sae_weights.safetensors';
export const IMPORTED_CFG = 'cfg.json';
export const IMPORTED_SOURCE = 'source.json';

/** Reads, checks and writes `folder` into `outDir`; returns what inspectExternalSae returns. */
export async function importExternalSae(folder: string, outDir: string, options: InspectOptions = {}): Promise<ExternalSaeInfo> {
  const { info, weights } = await readExternalSae(folder, options);
  const specs = architectureWeights(info.architecture, info.dIn, info.dSae);
  const weightsPath = join(outDir, IMPORTED_WEIGHTS);
  await writeSafetensors(weightsPath, Object.fromEntries(specs.map((s) => [s.name, { data: weights[s.name], shape: s.shape }])), { format: 'pt' });
  const alias = join(outDir, IMPORTED_WEIGHTS_ALIAS);
  await rm(alias, { force: true });
  await link(weightsPath, alias);
  const { path: _path, ...source } = info;
  await writeJsonAtomic(join(outDir, IMPORTED_CFG), importedConfig(info));
  await writeJsonAtomic(join(outDir, IMPORTED_SOURCE), source);
  return info;
}

/** cfg.json in SAELens 6 layout for the imported weights (b_dec applied to the input, no rescaling). */
export function importedConfig(info: ExternalSaeInfo): Record<string, unknown> {
  const { path: _path, files, transforms, ...provenance } = info;
  return {
    architecture: info.architecture,
    d_in: info.dIn,
    d_sae: info.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: info.normalization,
    reshape_activations: 'none',
    ...(info.architecture === 'topk' ? { k: info.k, rescale_acts_by_decoder_norm: false } : {}),
    metadata: {
      sae_lens_version: SAELENS_FORMAT_VERSION,
      sae_lens_training_version: SAELENS_FORMAT_VERSION,
      model_name: info.modelName,
      hook_name: info.hookName,
      hook_head_index: null,
      trainer: `external (${info.format})`,
      external: { ...provenance, transforms, files },
    },
  };
}
