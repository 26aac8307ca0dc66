/**
 * ONNX Runtime sessions over the split graphs: the prefix (tokens -> residual at layer L) used by
 * extraction and probes, and the suffix (residual -> final_hidden | logits) used by splicing.
 */
import { readFile, stat } from 'node:fs/promises';
import { createSession, Tensor, type Device, type InferenceSession } from '../../lib/onnx/backend.js';
import { decodeModel, type ModelObject } from '../../lib/onnx/onnx-proto.js';
import { TsaeError } from '../../lib/core/errors.js';
import type { ModelFolder } from './model-folder.js';
import { buildPrefixGraph, buildSuffixGraph, writeDerivedGraph, type ResidualDtype } from './split-graph.js';
import { autocastMatMuls, COMPUTE_DTYPES, type ComputeDtype } from './autocast.js';

export interface RunnerOptions {
  folder: ModelFolder;
  layer: number;
  device: Device;
  /** onnxruntime intra-op threads; 0 = all cores. */
  intraOpThreads?: number;
  /** Where derived graphs are written (default: the model's onnx/ folder). */
  graphDir?: string;
}

export interface PrefixOptions extends RunnerOptions {
  /** Residual output type (storage): float32, or float16 cast inside the graph. */
  dtype: ResidualDtype;
  /**
   * Precision of the MatMuls (autocast.ts): float32 (default), or float16 / bfloat16 with
   * everything else in float32. bfloat16 needs a provider with bfloat16 MatMul (CUDA).
   */
  compute?: ComputeDtype;
  /** Round through `compute` around float32 MatMuls instead (CPU tests of half numerics). */
  emulateCompute?: boolean;
}

export interface PrefixRunner {
  readonly dModel: number;
  readonly dtype: ResidualDtype;
  readonly compute: ComputeDtype;
  /**
   * Residual after block L for a right-padded batch.
   * @param inputIds [batch * seqLen] token ids, row-major
   * @param attentionMask [batch * seqLen] 1 for real tokens (default: all ones)
   * @returns [batch, seqLen, dModel] row-major: Float32Array, or raw half bits in a Uint16Array
   */
  run(inputIds: ArrayLike<number>, batch: number, seqLen: number, attentionMask?: ArrayLike<number>): Promise<Float32Array | Uint16Array>;
  dispose(): Promise<void>;
}

const modelCache = new Map<string, Promise<ModelObject>>();

/** The decoded full graph (weights stay external), decoded once per process per file version. */
export async function loadGraph(folder: ModelFolder): Promise<ModelObject> {
  const info = await stat(folder.onnxPath);
  const key = `${folder.onnxPath}:${info.size}:${info.mtimeMs}`;
  let cached = modelCache.get(key);
  if (!cached) {
    cached = readFile(folder.onnxPath).then((bytes) => decodeModel(bytes));
    modelCache.set(key, cached);
  }
  return cached;
}

/** int64 feeds built from any integer array-like (token ids, masks). */
export function int64Tensor(values: ArrayLike<number> | undefined, fill: number, batch: number, seqLen: number): Tensor {
  const data = new BigInt64Array(batch * seqLen);
  if (values) {
    if (values.length !== data.length) {
      throw new TsaeError('BAD_INPUT', `expected ${data.length} = ${batch} x ${seqLen} values, got ${values.length}`);
    }
    for (let i = 0; i < data.length; i++) data[i] = BigInt(values[i]);
  } else data.fill(BigInt(fill));
  return new Tensor('int64', data, [batch, seqLen]);
}

/**
 * Zero-length past key/values [batch, heads, 0, headDim] for every cache input a derived graph
 * still reads (the export has the transformers.js KV-cache interface; the splits run without cache).
 */
export function emptyPastFeeds(folder: ModelFolder, inputNames: readonly string[], batch: number): Record<string, Tensor> {
  const past = folder.meta.pastKeyValues;
  const feeds: Record<string, Tensor> = {};
  if (!past) return feeds;
  for (const name of past.inputs) {
    if (inputNames.includes(name)) feeds[name] = new Tensor('float32', new Float32Array(0), [batch, past.numHeads, 0, past.headDim]);
  }
  return feeds;
}

export async function createPrefixRunner(options: PrefixOptions): Promise<PrefixRunner> {
  const { folder, layer, dtype } = options;
  const compute = options.compute ?? 'float32';
  if (!COMPUTE_DTYPES.includes(compute)) throw new TsaeError('BAD_CONFIG', `compute dtype '${compute}' is not supported; allowed: ${COMPUTE_DTYPES.join(', ')}`);
  if (compute === 'bfloat16' && options.device === 'cpu' && !options.emulateCompute) {
    // onnxruntime's CPU provider has no bfloat16 MatMul kernel; fail here rather than at session creation.
    throw new TsaeError('BAD_CONFIG', "compute dtype 'bfloat16' needs a device with bfloat16 MatMul (cuda); on cpu use float32 or float16");
  }
  const { model: graph } = autocastMatMuls(buildPrefixGraph(await loadGraph(folder), folder, layer, dtype), compute, { emulate: options.emulateCompute });
  const suffix = compute === 'float32' ? '' : `-${compute}${options.emulateCompute ? '-emulated' : ''}`;
  const path = await writeDerivedGraph(folder, `tsae-prefix-L${layer}-${dtype}${suffix}.onnx`, graph, options.graphDir);
  const session = await createSession(path, { device: options.device, intraOpThreads: options.intraOpThreads ?? 0 });
  const dModel = folder.meta.dModel;
  return {
    dModel,
    dtype,
    compute,
    async run(inputIds, batch, seqLen, attentionMask) {
      const feeds: Record<string, Tensor> = {
        input_ids: int64Tensor(inputIds, 0, batch, seqLen),
        ...emptyPastFeeds(folder, session.inputNames, batch),
      };
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = int64Tensor(attentionMask, 1, batch, seqLen);
      const out = (await session.run(feeds)).residual;
      return out.data as Float32Array | Uint16Array;
    },
    dispose: () => session.release(),
  };
}

export interface SuffixRunner {
  readonly width: number;
  /**
   * @param residual [batch, seqLen, dModel] float32
   * @returns [batch, seqLen, width] float32 (width = dModel for final_hidden, vocab for logits)
   */
  run(residual: Float32Array, inputIds: ArrayLike<number>, batch: number, seqLen: number, attentionMask?: ArrayLike<number>): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export async function createSuffixRunner(options: RunnerOptions & { output: 'final_hidden' | 'logits' }): Promise<SuffixRunner> {
  const { folder, layer, output } = options;
  const graph = buildSuffixGraph(await loadGraph(folder), folder, layer, output);
  const path = await writeDerivedGraph(folder, `tsae-suffix-L${layer}-${output}.onnx`, graph, options.graphDir);
  const session: InferenceSession = await createSession(path, { device: options.device, intraOpThreads: options.intraOpThreads ?? 0 });
  const d = folder.meta.dModel;
  return {
    width: output === 'logits' ? folder.meta.vocabSize : d,
    async run(residual, inputIds, batch, seqLen, attentionMask) {
      if (residual.length !== batch * seqLen * d) {
        throw new TsaeError('BAD_INPUT', `residual has ${residual.length} values, expected ${batch} x ${seqLen} x ${d}`);
      }
      const feeds: Record<string, Tensor> = {
        residual: new Tensor('float32', residual, [batch, seqLen, d]),
        ...emptyPastFeeds(folder, session.inputNames, batch),
      };
      if (session.inputNames.includes('input_ids')) feeds.input_ids = int64Tensor(inputIds, 0, batch, seqLen);
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = int64Tensor(attentionMask, 1, batch, seqLen);
      return (await session.run(feeds))[output].data as Float32Array;
    },
    dispose: () => session.release(),
  };
}
