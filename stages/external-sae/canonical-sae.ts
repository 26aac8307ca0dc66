/**
 * The common form every external checkpoint is brought to: SAELens 6 inference semantics with
 * b_dec subtracted from the input, decoder rows as stored, float32 weights in the names and
 * shapes of stages/train/forward-graph.ts `architectureWeights`, so the runtime our own SAEs use
 * (stages/train/sae-runtime.ts) evaluates it unchanged. Checkpoint options that differ from that
 * form are folded into the weights exactly (float64 arithmetic, one rounding to float32 per element), each recorded in `transforms`:
 *   - apply_b_dec_to_input = false (SAELens; dictionary_learning JumpReluAutoEncoder, AutoEncoderNew):
 *     (x - b_dec) W_enc + (b_enc + b_dec W_enc) = x W_enc + b_enc; for gated, b_gate and b_mag
 *     take the same shift through W_enc and W_enc * exp(r_mag).
 *   - rescale_acts_by_decoder_norm (SAELens TopKSAE) and unit-norm decoders (dictionary_learning
 *     AutoEncoder.from_pretrained): with n_i = |W_dec[i]|, W_enc[:, i] *= n_i, b_enc[i] *= n_i
 *     (thresholds, b_gate, b_mag too: SAELens fold_W_dec_norm), W_dec[i] /= n_i.
 */
import type { ExternalSaeFile, ExternalSaeFormat } from '../../schemas/external-sae.js';
import { badInput } from '../../lib/core/errors.js';
import type { SaeArchitecture } from '../train/forward-graph.js';
import type { NamedTensor } from '../train/safetensors.js';

export type Normalization = 'none' | 'constant_norm_rescale' | 'layer_norm';

/** What a format reader returns: the checkpoint's weights renamed to SAELens names, not yet folded. */
export interface RawExternalSae {
  format: ExternalSaeFormat;
  sourceArchitecture: string;
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  /** topk only. */
  k?: number;
  dtype: string;
  /** The hook as the checkpoint names it; null when it records none. */
  sourceHookName: string | null;
  modelName: string | null;
  normalization: Normalization;
  /** False: the encoder sees x itself, not x - b_dec (SAELens apply_b_dec_to_input). */
  applyBDecToInput: boolean;
  /** Scale latents by decoder row norms and decoder rows to unit norm (see the module comment). */
  foldDecoderNorms: false | 'rescale_acts_by_decoder_norm' | 'unit_norm_decoder';
  /** SAELens names and layouts: W_enc [dIn, dSae], W_dec [dSae, dIn], vectors [dSae] or [dIn]. */
  weights: Record<string, Float32Array>;
  files: ExternalSaeFile[];
  /** Rewrites the reader already made (e.g. a scalar threshold broadcast). */
  notes: string[];
}

/**
 * Weights in the runtime's form plus the list of exact rewrites that produced them. Tensors no
 * fold touches are passed through; touched ones are copied and updated element by element with
 * float64 arithmetic (one rounding to float32 per element), so a large SAE never needs float64 copies.
 */
export function canonicalWeights(raw: RawExternalSae): { weights: Record<string, Float32Array>; transforms: string[] } {
  const w = { ...raw.weights };
  const transforms = [...raw.notes];
  if (raw.foldDecoderNorms) {
    foldDecoderNorms(w, raw.architecture, raw.dIn, raw.dSae);
    transforms.push(`${raw.foldDecoderNorms}: decoder row norms folded into the encoder (W_enc columns, encoder biases${raw.architecture === 'jumprelu' ? ', threshold' : ''}) and W_dec rows scaled to unit norm`);
  }
  if (!raw.applyBDecToInput) {
    foldInputBias(w, raw.architecture, raw.dIn, raw.dSae);
    transforms.push(`apply_b_dec_to_input=false: b_dec W_enc added to ${raw.architecture === 'gated' ? 'b_gate (and through exp(r_mag) to b_mag)' : 'b_enc'}, so the runtime may subtract b_dec from the input`);
  }
  return { weights: w, transforms };
}

/** v [dIn] times W_enc [dIn, dSae] -> [dSae], in float64. */
function inputTimesEncoder(v: Float32Array, W: Float32Array, dIn: number, dSae: number): Float64Array {
  const out = new Float64Array(dSae);
  for (let j = 0; j < dIn; j++) {
    const vj = v[j];
    if (vj === 0) continue;
    for (let i = 0; i < dSae; i++) out[i] += vj * W[j * dSae + i];
  }
  return out;
}

function foldInputBias(w: Record<string, Float32Array>, arch: SaeArchitecture, dIn: number, dSae: number): void {
  const shift = inputTimesEncoder(w.b_dec, w.W_enc, dIn, dSae);
  if (arch === 'gated') {
    const [gate, mag] = [Float32Array.from(w.b_gate), Float32Array.from(w.b_mag)];
    for (let i = 0; i < dSae; i++) {
      gate[i] = w.b_gate[i] + shift[i];
      mag[i] = w.b_mag[i] + shift[i] * Math.exp(w.r_mag[i]);
    }
    Object.assign(w, { b_gate: gate, b_mag: mag });
  } else {
    w.b_enc = Float32Array.from(w.b_enc, (b, i) => b + shift[i]);
  }
}

function foldDecoderNorms(w: Record<string, Float32Array>, arch: SaeArchitecture, dIn: number, dSae: number): void {
  const scaled = arch === 'gated' ? ['b_gate', 'b_mag'] : ['b_enc', ...(arch === 'jumprelu' ? ['threshold'] : [])];
  for (const name of ['W_enc', 'W_dec', ...scaled]) w[name] = Float32Array.from(w[name]);
  for (let i = 0; i < dSae; i++) {
    let sq = 0;
    for (let j = 0; j < dIn; j++) sq += w.W_dec[i * dIn + j] ** 2;
    // SAELens get_W_dec_norm clamps at 1e-8 so a dead (zero) row does not divide by zero.
    const n = Math.max(Math.sqrt(sq), 1e-8);
    for (let j = 0; j < dIn; j++) {
      w.W_dec[i * dIn + j] /= n;
      w.W_enc[j * dSae + i] *= n;
    }
    for (const bias of scaled) w[bias][i] *= n;
  }
}

/** The tensor `name` with exactly `shape`, or a BAD_INPUT naming the file, the tensor and both shapes. */
export function takeTensor(tensors: Record<string, NamedTensor>, name: string, shape: number[], file: string, context: string): Float32Array {
  const t = tensors[name];
  if (!t) throw badInput(`${file}: tensor '${name}' is missing (${context} needs it with shape [${shape}])`, { file, tensor: name });
  if (t.shape.join('x') !== shape.join('x')) {
    throw badInput(`${file}: tensor '${name}' has shape [${t.shape}]; ${context} needs [${shape}]`, { file, tensor: name });
  }
  return t.data;
}

/** Refuses tensors a reader does not use, so no weight of the checkpoint is silently ignored. */
export function refuseExtraTensors(tensors: Record<string, unknown>, used: readonly string[], file: string, context: string): void {
  const extra = Object.keys(tensors).filter((name) => !used.includes(name));
  if (extra.length > 0) {
    throw badInput(`${file}: tensor(s) ${extra.map((n) => `'${n}'`).join(', ')} are not part of ${context} (expected ${used.join(', ')}); refusing rather than ignoring them`, { file, tensors: extra });
  }
}

/** [rows, cols] row-major -> [cols, rows]. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A positive integer config field, or a BAD_INPUT naming the file and field. */
export function positiveInt(value: unknown, file: string, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw badInput(`${file}: field '${field}' must be a positive integer (found ${JSON.stringify(value)})`, { file, field });
  return value as number;
}
