/**
 * Export of a trained SAE in SAELens 6 layout, so SAELens (and SAEBench through it) load it:
 *   sae.safetensors (+ a hard link sae_weights.safetensors, the file name SAELens reads),
 *   cfg.json, and sae.onnx (x [N, d_in] -> latents, reconstruction) that runs alone in onnxruntime.
 *
 * Training sees inputs scaled by c (normalizeActivations); the export folds c into the weights
 * so the SAE takes raw activations (SAELens fold_activation_norm_scaling_factor):
 *   W_enc' = c W_enc, b_dec' = b_dec / c, W_dec' = W_dec / c (b_enc, b_gate, b_mag, thresholds unchanged).
 * Architectures: standard and atr -> 'standard'; topk -> 'topk'; jumprelu -> 'jumprelu' with
 * threshold = exp(log_threshold); batchtopk -> 'jumprelu' with its learned global threshold
 * (what SAELens does for its own BatchTopK SAEs); gated -> 'gated'.
 */
import { link, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from '../../schemas/train.js';
import { writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { buildForwardGraph, type SaeArchitecture } from './forward-graph.js';
import { topkK } from './resolve-config.js';
import { writeSafetensors } from './safetensors.js';
import { architectureWeights } from './forward-graph.js';

/** Above this many weight bytes sae.onnx keeps its weights in sae.onnx.data (protobuf's 2 GB limit). */
const INLINE_ONNX_LIMIT = 1 << 30;
/** The SAELens release whose format cfg.json follows (checked by infra/dev/python/check_saelens_load.py). */
export const SAELENS_FORMAT_VERSION = '6.54.12';

export interface ExportInput {
  cfg: TrainConfig;
  dIn: number;
  params: Record<string, Float32Array>;
  variantState: Record<string, Float32Array>;
  normScale: number;
  /** Extra metadata for cfg.json (dataset, steps, seed, ...). */
  metadata?: Record<string, unknown>;
  /** sae.onnx keeps weights inline up to this many bytes, else in sae.onnx.data (default 1 GiB). */
  inlineOnnxLimitBytes?: number;
}

export interface ExportedSae {
  architecture: SaeArchitecture;
  weights: Record<string, Float32Array>;
  cfg: Record<string, unknown>;
}

/** Weights in SAELens names for raw (unscaled) activations. */
export function saeLensWeights(input: ExportInput): { architecture: SaeArchitecture; weights: Record<string, Float32Array> } {
  const { cfg, params, normScale: c } = input;
  const scaled = (a: Float32Array, s: number) => a.map((v) => v * s);
  const weights: Record<string, Float32Array> = {
    W_enc: scaled(params.W_enc, c),
    W_dec: scaled(params.W_dec, 1 / c),
    b_dec: scaled(params.b_dec, 1 / c),
  };
  for (const name of ['b_enc', 'b_gate', 'r_mag', 'b_mag']) if (params[name]) weights[name] = Float32Array.from(params[name]);
  const architecture = exportArchitecture(cfg);
  if (cfg.variant === 'jumprelu') weights.threshold = params.log_threshold.map(Math.exp);
  if (cfg.variant === 'batchtopk') weights.threshold = new Float32Array(cfg.dSae).fill(batchTopKThreshold(input.variantState));
  return { architecture, weights };
}

export function exportArchitecture(cfg: TrainConfig): SaeArchitecture {
  if (cfg.variant === 'standard' || cfg.variant === 'atr') return 'standard';
  if (cfg.variant === 'batchtopk') return 'jumprelu';
  return cfg.variant;
}

/** The learned inference threshold (variants/batchtopk.ts); 0 if it never updated (-1 in the state). */
export function batchTopKThreshold(state: Record<string, Float32Array>): number {
  return Math.max(state.threshold[0], 0);
}

export function saeLensConfig(input: ExportInput, architecture: SaeArchitecture): Record<string, unknown> {
  const { cfg, dIn } = input;
  const out: Record<string, unknown> = {
    architecture,
    d_in: dIn,
    d_sae: cfg.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    reshape_activations: 'none',
    metadata: {
      sae_lens_version: SAELENS_FORMAT_VERSION,
      sae_lens_training_version: SAELENS_FORMAT_VERSION,
      model_name: cfg.modelName,
      hook_name: cfg.hookName,
      hook_head_index: null,
      prepend_bos: true,
      context_size: cfg.contextSize ?? cfg.seqLen ?? null,
      dataset_path: null,
      trainer: 'temporal-sae',
      training_variant: cfg.variant,
      activation_norm_scaling_factor_folded: input.normScale,
      ...input.metadata,
    },
  };
  if (cfg.variant === 'topk') Object.assign(out, { k: topkK(cfg), rescale_acts_by_decoder_norm: false });
  return out;
}

/** Writes sae.safetensors, sae_weights.safetensors (hard link), cfg.json, sae.onnx into outDir. */
export async function exportSae(input: ExportInput, outDir: string): Promise<ExportedSae> {
  const { architecture, weights } = saeLensWeights(input);
  const specs = architectureWeights(architecture, input.dIn, input.cfg.dSae);
  const named = Object.fromEntries(specs.map((s) => [s.name, { data: weights[s.name], shape: s.shape }]));
  const weightsPath = join(outDir, 'sae.safetensors');
  await writeSafetensors(weightsPath, named, { format: 'pt' });
  const alias = join(outDir, 'sae_weights.safetensors');
  await rm(alias, { force: true });
  await link(weightsPath, alias);
  const cfgJson = saeLensConfig(input, architecture);
  await writeJsonAtomic(join(outDir, 'cfg.json'), cfgJson);
  await writeOnnx(outDir, architecture, input, weights);
  return { architecture, weights, cfg: cfgJson };
}

async function writeOnnx(outDir: string, architecture: SaeArchitecture, input: ExportInput, weights: Record<string, Float32Array>): Promise<void> {
  const specs = architectureWeights(architecture, input.dIn, input.cfg.dSae);
  const total = specs.reduce((sum, s) => sum + weights[s.name].byteLength, 0);
  const k = input.cfg.variant === 'topk' ? topkK(input.cfg) : undefined;
  const base = { architecture, dIn: input.dIn, dSae: input.cfg.dSae, k, weights };
  if (total <= (input.inlineOnnxLimitBytes ?? INLINE_ONNX_LIMIT)) {
    await writeFileAtomic(join(outDir, 'sae.onnx'), buildForwardGraph(base));
    return;
  }
  const offsets: Record<string, number> = {};
  let offset = 0;
  for (const s of specs) {
    offsets[s.name] = offset;
    offset += weights[s.name].byteLength;
  }
  const dataPath = join(outDir, 'sae.onnx.data');
  await writeFile(dataPath, Buffer.alloc(0));
  for (const s of specs) await writeFile(dataPath, new Uint8Array(weights[s.name].buffer, weights[s.name].byteOffset, weights[s.name].byteLength), { flag: 'a' });
  await writeFileAtomic(join(outDir, 'sae.onnx'), buildForwardGraph({ ...base, externalData: { location: 'sae.onnx.data', offsets } }));
}
