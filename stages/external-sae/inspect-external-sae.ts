/**
 * inspectExternalSae: reads an external SAE folder in any supported format, brings it to the
 * runtime's form (canonical-sae.ts), and checks it against the run: d_in against the model's
 * d_model and the hook against the spec's layer. Problems with the files are BAD_INPUT, mismatches
 * with the spec BAD_CONFIG; every message names the file and the field.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExternalSaeFormat, ExternalSaeInfo } from '../../schemas/external-sae.js';
import { badConfig, badInput } from '../../lib/core/errors.js';
import { fileExists } from '../../lib/core/atomic-fs.js';
import { canonicalWeights, type RawExternalSae } from './canonical-sae.js';
import { DICTIONARY_LEARNING_CONFIG, DICTIONARY_LEARNING_WEIGHTS, readDictionaryLearningFolder } from './dictionary-learning-format.js';
import { contentAddress } from './hashed-file.js';
import { layerOfHook, residPostHook } from './hook-point.js';
import { readSaeLensFolder, SAELENS_CFG, SAELENS_WEIGHTS } from './saelens-format.js';
import { readSparsifyFolder, SPARSIFY_WEIGHTS } from './sparsify-format.js';

export interface InspectOptions {
  /** Checkpoint layout; detected from the files when absent. */
  format?: ExternalSaeFormat;
  /** Hook for checkpoints that record none (ExternalSaeEntry.hookName). */
  hookName?: string;
  /** The model's d_model: d_in must equal it. */
  dModel?: number;
  /** The spec's layer: the hook must be blocks.<layer>.hook_resid_post (or an equivalent name). */
  layer?: number;
}

/** An external SAE in the runtime's form: metadata plus float32 weights in SAELens names. */
export interface ExternalSae {
  info: ExternalSaeInfo;
  weights: Record<string, Float32Array>;
}

/** The config field that names the hook, per format (sparsify records it as the folder name). */
const HOOK_FIELD: Record<ExternalSaeFormat, string> = { saelens: 'metadata.hook_name', sparsify: "folder name (sparsify's hookpoint)", dictionary_learning: 'trainer.submodule_name' };
const D_IN_FIELD: Record<ExternalSaeFormat, string> = { saelens: 'd_in', sparsify: 'd_in', dictionary_learning: 'trainer.activation_dim' };

const READERS: Record<ExternalSaeFormat, (folder: string) => Promise<RawExternalSae>> = {
  saelens: readSaeLensFolder,
  sparsify: readSparsifyFolder,
  dictionary_learning: readDictionaryLearningFolder,
};

/** Reads, converts and checks; returns the metadata, provenance and content address (no weights). */
export async function inspectExternalSae(folder: string, options: InspectOptions = {}): Promise<ExternalSaeInfo> {
  return (await readExternalSae(folder, options)).info;
}

/** Like inspectExternalSae, and also returns the weights in the runtime's form. */
export async function readExternalSae(folder: string, options: InspectOptions = {}): Promise<ExternalSae> {
  const format = options.format ?? (await detectFormat(folder));
  const raw = await READERS[format](folder);
  const { weights, transforms } = canonicalWeights(raw);
  const { sourceHookName, layer } = resolveHook(raw, folder, options);
  checkAgainstRun(raw, layer, options, folder);
  const info: ExternalSaeInfo = {
    path: folder,
    format,
    sourceArchitecture: raw.sourceArchitecture,
    architecture: raw.architecture,
    dIn: raw.dIn,
    dSae: raw.dSae,
    ...(raw.k !== undefined ? { k: raw.k } : {}),
    dtype: raw.dtype,
    hookName: residPostHook(layer),
    sourceHookName,
    layer,
    normalization: raw.normalization,
    transforms,
    modelName: raw.modelName,
    files: raw.files,
    sha256: contentAddress(format, raw.files),
  };
  return { info, weights };
}

/** Which layout `folder` holds, from the files present (and, for cfg.json, its fields). */
export async function detectFormat(folder: string): Promise<ExternalSaeFormat> {
  const info = await stat(folder).catch(() => undefined);
  if (!info) throw badInput(`${folder}: external SAE folder does not exist`, { file: folder });
  if (!info.isDirectory()) throw badInput(`${folder}: not a folder; an external SAE is a folder (SAELens: ${SAELENS_CFG} + ${SAELENS_WEIGHTS[0]})`, { file: folder });
  const has = async (name: string) => fileExists(join(folder, name));
  if ((await has(DICTIONARY_LEARNING_WEIGHTS)) || (await has(DICTIONARY_LEARNING_CONFIG))) return 'dictionary_learning';
  for (const weights of SAELENS_WEIGHTS) if (await has(weights)) return weights === SPARSIFY_WEIGHTS && (await looksLikeSparsify(folder)) ? 'sparsify' : 'saelens';
  if (await has(SAELENS_CFG)) return 'saelens'; // the reader names the missing weights file
  throw badInput(
    `${join(folder, SAELENS_CFG)}: missing; no SAE checkpoint found in ${folder} (SAELens: ${SAELENS_CFG} + ${SAELENS_WEIGHTS[0]}; sparsify: ${SAELENS_CFG} + ${SPARSIFY_WEIGHTS}; dictionary_learning: ${DICTIONARY_LEARNING_CONFIG} + ${DICTIONARY_LEARNING_WEIGHTS})`,
    { file: join(folder, SAELENS_CFG) },
  );
}

/** sparsify's cfg.json has SparseCoderConfig fields and no SAELens d_sae/architecture. */
async function looksLikeSparsify(folder: string): Promise<boolean> {
  try {
    const cfg = JSON.parse(await readFile(join(folder, SAELENS_CFG), 'utf8')) as Record<string, unknown>;
    return cfg.d_sae === undefined && cfg.architecture === undefined && ('expansion_factor' in cfg || 'num_latents' in cfg);
  } catch {
    return false; // a missing or broken cfg.json is reported by the SAELens reader, naming it
  }
}

/** The hook the checkpoint records (or the entry supplies) and the layer it names. */
function resolveHook(raw: RawExternalSae, folder: string, options: InspectOptions): { sourceHookName: string; layer: number } {
  const file = join(folder, raw.files[0].file);
  const field = HOOK_FIELD[raw.format];
  const recorded = raw.sourceHookName;
  if (recorded !== null && options.hookName !== undefined && layerOfHook(recorded) !== layerOfHook(options.hookName)) {
    throw badConfig(`${file}: field '${field}' is '${recorded}' but the spec entry's hookName is '${options.hookName}'`, { file, field });
  }
  const name = recorded ?? options.hookName;
  if (name === undefined) {
    throw badConfig(`${file}: field '${field}' is missing, so the hooked activation is unknown; give the spec entry a hookName (e.g. blocks.6.hook_resid_post)`, { file, field });
  }
  const layer = layerOfHook(name);
  if (layer === undefined) {
    throw badConfig(`${file}: field '${field}' is '${name}', not a residual stream after a block; supported: blocks.L.hook_resid_post (or blocks.L+1.hook_resid_pre, layers.L, model.layers.L, resid_post_layer_L)`, { file, field });
  }
  return { sourceHookName: name, layer };
}

function checkAgainstRun(raw: RawExternalSae, layer: number, options: InspectOptions, folder: string): void {
  const file = join(folder, raw.files[0].file);
  const dInField = D_IN_FIELD[raw.format];
  if (options.dModel !== undefined && raw.dIn !== options.dModel) {
    throw badConfig(`${file}: field '${dInField}' is ${raw.dIn} but the model's d_model is ${options.dModel}`, { file, field: dInField });
  }
  if (options.layer !== undefined && layer !== options.layer) {
    const hookField = HOOK_FIELD[raw.format];
    throw badConfig(`${file}: field '${hookField}' is '${raw.sourceHookName ?? options.hookName}' (layer ${layer}) but the spec's layer is ${options.layer} (${residPostHook(options.layer)})`, { file, field: hookField });
  }
}
