/**
 * EleutherAI sparsify checkpoints (eai-sparsify 1.3.3, sparsify/sparse_coder.py): a folder named
 * after its hookpoint holding cfg.json (SparseCoderConfig fields + d_in) and sae.safetensors with
 * encoder.weight [d_sae, d_in], encoder.bias [d_sae], W_dec [d_sae, d_in], b_dec [d_in].
 * Forward (SparseCoder.encode/decode, fused_encoder.py): top-k of relu((x - b_dec) W_enc^T + b),
 * decoded as sum of acts * W_dec rows + b_dec. Top-k after ReLU keeps the same non-zeros as
 * SAELens' ReLU after top-k, so it runs as a SAELens topk SAE with W_enc = encoder.weight^T.
 * Refused: activation 'groupmax', transcoders (transcode) and skip connections (W_skip), which
 * are not autoencoders of one activation.
 */
import { basename } from 'node:path';
import { badInput } from '../../lib/core/errors.js';
import { decodeSafetensors } from '../train/safetensors.js';
import { positiveInt, refuseExtraTensors, takeTensor, transpose, type RawExternalSae } from './canonical-sae.js';
import { parseJsonObject, readHashed } from './hashed-file.js';
import { layerOfHook } from './hook-point.js';

export const SPARSIFY_CFG = 'cfg.json';
export const SPARSIFY_WEIGHTS = 'sae.safetensors';
const DTYPE_NAMES: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };

export async function readSparsifyFolder(folder: string): Promise<RawExternalSae> {
  const cfgFile = await readHashed(folder, SPARSIFY_CFG, 'a sparsify checkpoint needs cfg.json beside sae.safetensors');
  const cfg = parseJsonObject(cfgFile);
  const at = cfgFile.path;
  const dIn = positiveInt(cfg.d_in, at, 'd_in');
  const k = positiveInt(cfg.k, at, 'k');
  for (const [field, bad, why] of [
    ['activation', (v: unknown) => v !== undefined && v !== 'topk', "only 'topk' is supported ('groupmax' selects per group)"],
    ['transcode', (v: unknown) => v === true, 'transcoders predict another activation; not an autoencoder'],
    ['skip_connection', (v: unknown) => v === true, 'the W_skip path is not part of an SAE forward'],
  ] as const) {
    if (bad(cfg[field])) throw badInput(`${at}: field '${field}' is ${JSON.stringify(cfg[field])}: ${why}`, { file: at, field });
  }
  const weightsFile = await readHashed(folder, SPARSIFY_WEIGHTS, 'the sparsify weights');
  const { tensors, dtypes } = decodeSafetensors(weightsFile.bytes, weightsFile.path);
  const dSae = sparsifyLatents(cfg, dIn, tensors['encoder.weight']?.shape, at);
  if (k > dSae) throw badInput(`${at}: field 'k' (${k}) exceeds the ${dSae} latents`, { file: at, field: 'k' });
  const context = `a sparsify SAE with d_in ${dIn} and ${dSae} latents`;
  const names = ['encoder.weight', 'encoder.bias', 'W_dec', 'b_dec'];
  const encoder = takeTensor(tensors, 'encoder.weight', [dSae, dIn], weightsFile.path, context);
  const weights = {
    W_enc: transpose(encoder, dSae, dIn),
    b_enc: takeTensor(tensors, 'encoder.bias', [dSae], weightsFile.path, context),
    W_dec: takeTensor(tensors, 'W_dec', [dSae, dIn], weightsFile.path, context),
    b_dec: takeTensor(tensors, 'b_dec', [dIn], weightsFile.path, context),
  };
  refuseExtraTensors(tensors, names, weightsFile.path, context);
  return {
    format: 'sparsify',
    sourceArchitecture: `sparsify ${String(cfg.activation ?? 'topk')}`,
    architecture: 'topk',
    dIn,
    dSae,
    k,
    dtype: DTYPE_NAMES[dtypes['encoder.weight']] ?? 'float32',
    sourceHookName: hookpointOf(folder),
    modelName: null,
    normalization: 'none',
    applyBDecToInput: true,
    foldDecoderNorms: false,
    weights,
    files: [cfgFile.record, weightsFile.record],
    notes: ['encoder.weight transposed to W_enc [d_in, d_sae]; top-k after ReLU run as ReLU after top-k (same non-zeros)'],
  };
}

/**
 * sparsify saves each SAE in a folder named after its hookpoint (Trainer checkpoint: <run>/<hookpoint>);
 * a folder renamed to something that is not a hookpoint records none (the spec entry then names it).
 */
function hookpointOf(folder: string): string | null {
  const name = basename(folder.replace(/[/\\]+$/, ''));
  return layerOfHook(name) === undefined ? null : name;
}

/** num_latents, else d_in * expansion_factor (SparseCoder.__init__); must agree with the weights. */
function sparsifyLatents(cfg: Record<string, unknown>, dIn: number, encoderShape: number[] | undefined, at: string): number {
  const declared = cfg.num_latents ? positiveInt(cfg.num_latents, at, 'num_latents') : dIn * positiveInt(cfg.expansion_factor ?? 32, at, 'expansion_factor');
  if (encoderShape && encoderShape[0] !== declared) {
    throw badInput(`${at}: fields 'num_latents'/'expansion_factor' give ${declared} latents but encoder.weight has ${encoderShape[0]} rows`, { file: at, field: 'num_latents' });
  }
  return declared;
}
