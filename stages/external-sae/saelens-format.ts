/**
 * SAELens folders: cfg.json + sae_weights.safetensors (SAELens 6 `SAE.save_model`; our own
 * exports also write sae.safetensors). Field meanings follow sae_lens 6.54.12: saes/sae.py
 * (SAEConfig, process_sae_in, the run-time normalisations), saes/{standard,topk,jumprelu,gated}_sae.py
 * (encode/decode), saes/batchtopk_sae.py (BatchTopK saved as jumprelu with a constant threshold),
 * loading/pretrained_sae_loaders.py (handle_pre_6_0_config: hook_point, activation_fn_kwargs.k,
 * boolean normalize_activations; read_sae_components_from_disk: the all-ones scaling_factor).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { badInput } from '../../lib/core/errors.js';
import { architectureWeights, type SaeArchitecture } from '../train/forward-graph.js';
import { decodeSafetensors } from '../train/safetensors.js';
import { positiveInt, refuseExtraTensors, takeTensor, type Normalization, type RawExternalSae } from './canonical-sae.js';
import { parseJsonObject, readHashed } from './hashed-file.js';

export const SAELENS_CFG = 'cfg.json';
/** SAELens' weights file name first, then the name our exporter writes beside it. */
export const SAELENS_WEIGHTS = ['sae_weights.safetensors', 'sae.safetensors'] as const;
export const SAELENS_ARCHITECTURES: readonly string[] = ['standard', 'topk', 'jumprelu', 'gated'];
const DTYPES: Record<string, string> = { float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16', float64: 'float64', double: 'float64' };
const SAFETENSORS_DTYPES: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };
const NORMALIZATIONS: readonly string[] = ['none', 'constant_norm_rescale', 'layer_norm'];

/** Reads a SAELens-format folder into weights with SAELens names (not yet folded). */
export async function readSaeLensFolder(folder: string): Promise<RawExternalSae> {
  const cfgFile = await readHashed(folder, SAELENS_CFG, 'a SAELens folder needs cfg.json beside sae_weights.safetensors');
  const at = cfgFile.path;
  const cfg = upgradePre6(parseJsonObject(cfgFile), at);
  const meta = isObject(cfg.metadata) ? cfg.metadata : {};
  const architecture = saeLensArchitecture(cfg.architecture, at);
  const dIn = positiveInt(cfg.d_in, at, 'd_in');
  const dSae = positiveInt(cfg.d_sae, at, 'd_sae');
  const k = architecture === 'topk' ? positiveInt(cfg.k, at, 'k') : undefined;
  if (k !== undefined && k > dSae) throw badInput(`${at}: field 'k' (${k}) exceeds d_sae (${dSae})`, { file: at, field: 'k' });
  checkUnsupported(cfg, meta, at);
  const weightsName = SAELENS_WEIGHTS.find((name) => existsSync(join(folder, name))) ?? SAELENS_WEIGHTS[0];
  const weightsFile = await readHashed(folder, weightsName, 'the SAE weights SAELens reads');
  const { tensors, dtypes } = decodeSafetensors(weightsFile.bytes, weightsFile.path);
  const notes = dropUnitScalingFactor(tensors, weightsFile.path);
  const specs = architectureWeights(architecture, dIn, dSae);
  const context = `a SAELens ${architecture} SAE with d_in ${dIn} and d_sae ${dSae}`;
  const weights = Object.fromEntries(specs.map((s) => [s.name, takeTensor(tensors, s.name, s.shape, weightsFile.path, context)]));
  refuseExtraTensors(tensors, specs.map((s) => s.name), weightsFile.path, context);
  return {
    format: 'saelens',
    sourceArchitecture: String(cfg.architecture),
    architecture,
    dIn,
    dSae,
    k,
    dtype: configDtype(cfg.dtype, at) ?? SAFETENSORS_DTYPES[dtypes.W_dec] ?? 'float32',
    sourceHookName: stringOrNull(meta.hook_name ?? cfg.hook_name),
    modelName: stringOrNull(meta.model_name ?? cfg.model_name),
    normalization: cfg.normalize_activations as Normalization,
    applyBDecToInput: booleanField(cfg.apply_b_dec_to_input, true, at, 'apply_b_dec_to_input'),
    foldDecoderNorms: architecture === 'topk' && booleanField(cfg.rescale_acts_by_decoder_norm, false, at, 'rescale_acts_by_decoder_norm') ? 'rescale_acts_by_decoder_norm' : false,
    weights,
    files: [cfgFile.record, weightsFile.record],
    notes,
  };
}

/** SAELens < 6 field names and defaults, as handle_pre_6_0_config maps them. */
function upgradePre6(cfg: Record<string, unknown>, at: string): Record<string, unknown> {
  const meta = isObject(cfg.metadata) ? cfg.metadata : {};
  const version = String(cfg.sae_lens_version ?? meta.sae_lens_version ?? '');
  const major = Number(version.split('.')[0]);
  const out = { ...cfg };
  if (!version || !(major >= 6)) {
    if (out.hook_name === undefined && out.hook_point !== undefined) out.hook_name = out.hook_point;
    if (out.hook_head_index === undefined && out.hook_point_head_index !== undefined) out.hook_head_index = out.hook_point_head_index;
    const activation = out.activation_fn ?? out.activation_fn_str ?? 'relu';
    const kwargs = isObject(out.activation_fn_kwargs) ? out.activation_fn_kwargs : {};
    if (out.architecture === undefined) out.architecture = activation === 'topk' && kwargs.k !== undefined ? 'topk' : 'standard';
    if (out.architecture === 'topk' && out.k === undefined) out.k = kwargs.k;
    if (out.architecture === 'standard' && activation !== 'relu') {
      throw badInput(`${at}: field 'activation_fn' is '${activation}'; a pre-6 SAELens standard SAE must use relu (or topk with activation_fn_kwargs.k)`, { file: at, field: 'activation_fn' });
    }
  }
  if (typeof out.normalize_activations === 'boolean') out.normalize_activations = out.normalize_activations ? 'expected_average_only_in' : 'none';
  if (out.normalize_activations === undefined || out.normalize_activations === null) out.normalize_activations = 'none';
  return out;
}

function saeLensArchitecture(value: unknown, at: string): SaeArchitecture {
  if (typeof value === 'string' && SAELENS_ARCHITECTURES.includes(value)) return value as SaeArchitecture;
  const hint =
    value === 'batchtopk'
      ? ' (a BatchTopK training config: SAELens saves BatchTopK SAEs for inference as jumprelu with a constant threshold; load it with SAELens and save_inference_model)'
      : value === undefined
        ? ' (missing)'
        : '';
  throw badInput(`${at}: field 'architecture' is ${JSON.stringify(value)}${hint}; supported: ${SAELENS_ARCHITECTURES.join(', ')}`, { file: at, field: 'architecture' });
}

/** Options that change the forward pass in ways the runtime cannot reproduce, each refused by name. */
function checkUnsupported(cfg: Record<string, unknown>, meta: Record<string, unknown>, at: string): void {
  const norm = String(cfg.normalize_activations);
  if (!NORMALIZATIONS.includes(norm)) {
    const why: Record<string, string> = {
      expected_average_only_in: 'its scaling factor is not in the folder; fold it first (SAELens sae.fold_activation_norm_scaling_factor(factor), then save_model)',
      covariance_whitening: 'its whitening statistics are not in the folder; fold them first (SAELens sae.fold_activation_whitening(...), then save_model)',
    };
    throw badInput(`${at}: field 'normalize_activations' is '${norm}': ${why[norm] ?? 'unknown to SAELens 6.54'}; supported: ${NORMALIZATIONS.join(', ')}`, { file: at, field: 'normalize_activations' });
  }
  if (cfg.reshape_activations !== undefined && cfg.reshape_activations !== 'none') {
    throw badInput(`${at}: field 'reshape_activations' is '${cfg.reshape_activations}'; only residual-stream SAEs ('none') are supported`, { file: at, field: 'reshape_activations' });
  }
  const head = meta.hook_head_index ?? cfg.hook_head_index;
  if (head !== undefined && head !== null) throw badInput(`${at}: field 'hook_head_index' is ${JSON.stringify(head)}; per-head SAEs are not supported`, { file: at, field: 'hook_head_index' });
  configDtype(cfg.dtype, at);
}

/** cfg.json `dtype` as a runtime-readable name, undefined when absent. */
function configDtype(value: unknown, at: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const name = DTYPES[String(value).replace(/^torch\./, '')];
  if (!name) throw badInput(`${at}: field 'dtype' is ${JSON.stringify(value)}; supported: float32, float16, bfloat16, float64 (converted to float32)`, { file: at, field: 'dtype' });
  return name;
}

/** Pre-6 checkpoints carried an all-ones `scaling_factor`, which SAELens drops; any other value is refused. */
function dropUnitScalingFactor(tensors: Record<string, { data: Float32Array }>, file: string): string[] {
  const factor = tensors.scaling_factor;
  if (!factor) return [];
  if (!factor.data.every((v) => v === 1)) {
    throw badInput(`${file}: tensor 'scaling_factor' is not all ones (a finetuning_scaling_factor SAE); not supported`, { file, tensor: 'scaling_factor' });
  }
  delete tensors.scaling_factor;
  return ['scaling_factor: all ones, dropped (as SAELens read_sae_components_from_disk does)'];
}

function booleanField(value: unknown, fallback: boolean, at: string, field: string): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw badInput(`${at}: field '${field}' must be true or false (found ${JSON.stringify(value)})`, { file: at, field });
  return value;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
