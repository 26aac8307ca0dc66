/**
 * saprmarks/dictionary_learning checkpoints (dictionary-learning 0.1.0): config.json
 * ({"trainer": {dict_class, activation_dim, dict_size, k, layer, submodule_name, lm_name, ...}})
 * and ae.pt (torch.save of the state dict, read without Python by torch-checkpoint.ts). Each
 * dict_class's forward (dictionary.py, trainers/top_k.py, trainers/batch_top_k.py,
 * trainers/matryoshka_batch_top_k.py) maps to a SAELens architecture:
 *   AutoEncoder          relu(encoder(x - bias)); decoder rows normalised as from_pretrained does -> standard
 *   AutoEncoderNew       relu(encoder(x)), decoder with bias                                  -> standard, input bias folded
 *   GatedAutoEncoder     gate/magnitude paths with r_mag, decoder_bias                          -> gated
 *   JumpReluAutoEncoder  apply_b_dec_to_input = False                                           -> jumprelu, input bias folded
 *   AutoEncoderTopK      top-k of relu(encoder(x - b_dec)) (the default use_threshold=False)    -> topk
 *   BatchTopKSAE, MatryoshkaBatchTopKSAE  relu(pre) * (relu(pre) > threshold), a scalar        -> jumprelu, threshold max(t, 0) per latent
 * (relu(pre) > t equals pre > t for t >= 0; for the untrained t = -1 every relu(pre) passes, which is jumprelu at 0.)
 */
import { badInput } from '../../lib/core/errors.js';
import type { SaeArchitecture } from '../train/forward-graph.js';
import { positiveInt, refuseExtraTensors, takeTensor, transpose, type RawExternalSae } from './canonical-sae.js';
import { parseJsonObject, readHashed } from './hashed-file.js';
import { readTorchStateDict, type CheckpointTensor } from './torch-checkpoint.js';

export const DICTIONARY_LEARNING_CONFIG = 'config.json';
export const DICTIONARY_LEARNING_WEIGHTS = 'ae.pt';

type Take = (name: string, shape: number[]) => Float32Array;
interface ClassSpec {
  architecture: SaeArchitecture;
  /** State-dict names this class saves. */
  names: string[];
  weights: (take: Take, dIn: number, dSae: number) => Record<string, Float32Array>;
  applyBDecToInput: boolean;
  unitNormDecoder?: boolean;
  notes: string[];
}

const linearEncoder = (take: Take, dIn: number, dSae: number) => transpose(take('encoder.weight', [dSae, dIn]), dSae, dIn);
const linearDecoder = (take: Take, dIn: number, dSae: number) => transpose(take('decoder.weight', [dIn, dSae]), dIn, dSae);
const scalarThreshold = (take: Take, dSae: number) => new Float32Array(dSae).fill(Math.max(take('threshold', [])[0], 0));
const TOPK_NAMES = ['encoder.weight', 'encoder.bias', 'decoder.weight', 'b_dec', 'k', 'threshold'];
const DIRECT_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec'];
const direct = (take: Take, dIn: number, dSae: number) => ({ W_enc: take('W_enc', [dIn, dSae]), b_enc: take('b_enc', [dSae]), W_dec: take('W_dec', [dSae, dIn]), b_dec: take('b_dec', [dIn]) });
const TRANSPOSED = 'encoder.weight / decoder.weight (nn.Linear layout) transposed to W_enc [d_in, d_sae] / W_dec [d_sae, d_in]';
const SCALAR_THRESHOLD = 'scalar threshold t broadcast per latent as max(t, 0): relu(pre) > t is pre > t for t >= 0';

const CLASSES: Record<string, ClassSpec> = {
  AutoEncoder: {
    architecture: 'standard',
    names: ['bias', 'encoder.weight', 'encoder.bias', 'decoder.weight'],
    weights: (take, dIn, dSae) => ({ W_enc: linearEncoder(take, dIn, dSae), b_enc: take('encoder.bias', [dSae]), W_dec: linearDecoder(take, dIn, dSae), b_dec: take('bias', [dIn]) }),
    applyBDecToInput: true,
    unitNormDecoder: true,
    notes: [TRANSPOSED],
  },
  AutoEncoderNew: {
    architecture: 'standard',
    names: ['encoder.weight', 'encoder.bias', 'decoder.weight', 'decoder.bias'],
    weights: (take, dIn, dSae) => ({ W_enc: linearEncoder(take, dIn, dSae), b_enc: take('encoder.bias', [dSae]), W_dec: linearDecoder(take, dIn, dSae), b_dec: take('decoder.bias', [dIn]) }),
    applyBDecToInput: false,
    notes: [TRANSPOSED],
  },
  GatedAutoEncoder: {
    architecture: 'gated',
    names: ['decoder_bias', 'encoder.weight', 'r_mag', 'gate_bias', 'mag_bias', 'decoder.weight'],
    weights: (take, dIn, dSae) => ({
      W_enc: linearEncoder(take, dIn, dSae),
      b_gate: take('gate_bias', [dSae]),
      r_mag: take('r_mag', [dSae]),
      b_mag: take('mag_bias', [dSae]),
      W_dec: linearDecoder(take, dIn, dSae),
      b_dec: take('decoder_bias', [dIn]),
    }),
    applyBDecToInput: true,
    notes: [TRANSPOSED],
  },
  JumpReluAutoEncoder: {
    architecture: 'jumprelu',
    names: [...DIRECT_NAMES, 'threshold'],
    weights: (take, dIn, dSae) => ({ ...direct(take, dIn, dSae), threshold: take('threshold', [dSae]) }),
    applyBDecToInput: false,
    notes: [],
  },
  AutoEncoderTopK: {
    architecture: 'topk',
    names: TOPK_NAMES,
    weights: (take, dIn, dSae) => ({ W_enc: linearEncoder(take, dIn, dSae), b_enc: take('encoder.bias', [dSae]), W_dec: linearDecoder(take, dIn, dSae), b_dec: take('b_dec', [dIn]) }),
    applyBDecToInput: true,
    notes: [TRANSPOSED, 'threshold buffer unused: AutoEncoderTopK.encode defaults to use_threshold=False'],
  },
  BatchTopKSAE: {
    architecture: 'jumprelu',
    names: TOPK_NAMES,
    weights: (take, dIn, dSae) => ({ W_enc: linearEncoder(take, dIn, dSae), b_enc: take('encoder.bias', [dSae]), W_dec: linearDecoder(take, dIn, dSae), b_dec: take('b_dec', [dIn]), threshold: scalarThreshold(take, dSae) }),
    applyBDecToInput: true,
    notes: [TRANSPOSED, SCALAR_THRESHOLD],
  },
  MatryoshkaBatchTopKSAE: {
    architecture: 'jumprelu',
    names: [...DIRECT_NAMES, 'k', 'threshold', 'group_sizes'],
    weights: (take, dIn, dSae) => ({ ...direct(take, dIn, dSae), threshold: scalarThreshold(take, dSae) }),
    applyBDecToInput: true,
    notes: [SCALAR_THRESHOLD, 'all Matryoshka groups active (from_pretrained sets active_groups to every group)'],
  },
};

export async function readDictionaryLearningFolder(folder: string): Promise<RawExternalSae> {
  const configFile = await readHashed(folder, DICTIONARY_LEARNING_CONFIG, 'a dictionary_learning checkpoint needs config.json beside ae.pt');
  const at = configFile.path;
  const config = parseJsonObject(configFile);
  const trainer = (typeof config.trainer === 'object' && config.trainer !== null ? config.trainer : undefined) as Record<string, unknown> | undefined;
  if (!trainer) throw badInput(`${at}: field 'trainer' is missing; dictionary_learning writes {"trainer": {...}}`, { file: at, field: 'trainer' });
  const dictClass = String(trainer.dict_class);
  const spec = CLASSES[dictClass];
  if (!spec) throw badInput(`${at}: field 'trainer.dict_class' is ${JSON.stringify(trainer.dict_class)}; supported: ${Object.keys(CLASSES).join(', ')}`, { file: at, field: 'trainer.dict_class' });
  const dIn = positiveInt(trainer.activation_dim, at, 'trainer.activation_dim');
  const dSae = positiveInt(trainer.dict_size, at, 'trainer.dict_size');
  const aeFile = await readHashed(folder, DICTIONARY_LEARNING_WEIGHTS, 'the dictionary_learning weights (torch.save of the state dict)');
  const tensors = readTorchStateDict(aeFile.bytes, aeFile.path);
  const context = `a dictionary_learning ${dictClass} with activation_dim ${dIn} and dict_size ${dSae}`;
  const named = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, { data: t.data, shape: t.shape }]));
  const take: Take = (name, shape) => takeTensor(named, name, shape, aeFile.path, context);
  const weights = spec.weights(take, dIn, dSae);
  refuseExtraTensors(tensors, spec.names, aeFile.path, context);
  return {
    format: 'dictionary_learning',
    sourceArchitecture: dictClass,
    architecture: spec.architecture,
    dIn,
    dSae,
    k: spec.architecture === 'topk' ? topK(trainer, tensors, dSae, at) : undefined,
    dtype: storageDtype(Object.values(tensors).find((t) => t.shape.length === 2)),
    sourceHookName: typeof trainer.submodule_name === 'string' ? trainer.submodule_name : null,
    modelName: typeof trainer.lm_name === 'string' ? trainer.lm_name : null,
    normalization: 'none',
    applyBDecToInput: spec.applyBDecToInput,
    foldDecoderNorms: spec.unitNormDecoder ? 'unit_norm_decoder' : false,
    weights,
    files: [configFile.record, aeFile.record],
    notes: spec.notes,
  };
}

/** k from the state dict's `k` buffer, which must agree with the config (as from_pretrained checks). */
function topK(trainer: Record<string, unknown>, tensors: Record<string, CheckpointTensor>, dSae: number, at: string): number {
  const saved = tensors.k?.data[0];
  const k = positiveInt(saved ?? trainer.k, at, 'trainer.k');
  if (trainer.k !== undefined && trainer.k !== k) throw badInput(`${at}: field 'trainer.k' (${trainer.k}) differs from the k saved in ae.pt (${k})`, { file: at, field: 'trainer.k' });
  if (k > dSae) throw badInput(`${at}: field 'trainer.k' (${k}) exceeds dict_size (${dSae})`, { file: at, field: 'trainer.k' });
  return k;
}

function storageDtype(t: CheckpointTensor | undefined): string {
  const names: Record<string, string> = { FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64' };
  return (t && names[t.storageType]) ?? 'float32';
}
