/**
 * Half-precision compute for a float32 export, the way torch.autocast does it on CUDA: MatMul
 * and Gemm run in float16 or bfloat16 (tensor cores; weights stored and read as half), and
 * everything else stays float32: the residual adds, RMSNorm (fused by onnxruntime into
 * SimplifiedLayerNormalization), softmax, rotary embeddings. That keeps the residual stream in
 * float32, which Gemma's large activations need (its residual entries pass float16's 65504 in
 * some layers, the reason Gemma is run in bfloat16, as the paper does, or float32), while the
 * matrix products, nearly all the FLOPs, use the fast units.
 *
 * Every MatMul/Gemm input gets a Cast to the half type (one per tensor, shared by its
 * consumers: Q, K and V read one cast of the normed activations) and its output a Cast back.
 * Casts of weight initializers are constant-folded by onnxruntime at session creation, so the
 * weights live on the device once, as half. Nothing else changes: same inputs, outputs and layer
 * convention (resid_post.L).
 *
 * `emulate` keeps the MatMul in float32 and only rounds its inputs and output through the half
 * type (Cast there and back): the numerics of a half MatMul with float32 accumulation (cuBLAS'
 * default), on providers without half kernels (the CPU provider has no bfloat16 MatMul), so CPU
 * tests can predict the GPU's parity.
 */
import { OnnxDataType, type ModelObject } from '../../lib/onnx/onnx-proto.js';
import { node } from '../../lib/onnx/graph-proto.js';

export const COMPUTE_DTYPES = ['float32', 'float16', 'bfloat16'] as const;
export type ComputeDtype = (typeof COMPUTE_DTYPES)[number];

const HALF_OPS = new Set(['MatMul', 'Gemm']);

export interface AutocastResult {
  model: ModelObject;
  /** MatMul/Gemm nodes now computing in half precision. */
  converted: number;
}

/** Returns a copy of `model` whose MatMul/Gemm nodes compute in `dtype` (see the module comment). */
export function autocastMatMuls(model: ModelObject, dtype: ComputeDtype, options: { emulate?: boolean } = {}): AutocastResult {
  if (dtype === 'float32') return { model, converted: 0 };
  const half = dtype === 'float16' ? OnnxDataType.FLOAT16 : OnnxDataType.BFLOAT16;
  const tag = dtype === 'float16' ? 'f16' : 'bf16';
  const castOf = new Map<string, string>();
  const out: ModelObject[] = [];
  let converted = 0;
  const castInput = (tensor: string): string => {
    let cast = castOf.get(tensor);
    if (!cast) {
      cast = `${tensor}__tsae_${tag}`;
      out.push(node('Cast', [tensor], [cast], { to: half }, { name: `tsae_autocast_${cast}` }));
      if (options.emulate) {
        out.push(node('Cast', [cast], [`${cast}_f32`], { to: OnnxDataType.FLOAT }, { name: `tsae_autocast_${cast}_f32` }));
        cast = `${cast}_f32`;
      }
      castOf.set(tensor, cast);
    }
    return cast;
  };
  for (const n of (model.graph.node ?? []) as any[]) {
    if (!HALF_OPS.has(n.op_type) || (n.domain ?? '') !== '') {
      out.push(n);
      continue;
    }
    converted++;
    const inputs = (n.input as string[]).map((i) => (i ? castInput(i) : i));
    const result = n.output[0] as string;
    const product = `${result}__tsae_${tag}_out`;
    out.push({ ...n, input: inputs, output: [product, ...n.output.slice(1)] });
    if (options.emulate) {
      out.push(node('Cast', [product], [`${product}_rounded`], { to: half }, { name: `tsae_autocast_${product}_rounded` }));
      out.push(node('Cast', [`${product}_rounded`], [result], { to: OnnxDataType.FLOAT }, { name: `tsae_autocast_${result}` }));
    } else {
      out.push(node('Cast', [product], [result], { to: OnnxDataType.FLOAT }, { name: `tsae_autocast_${result}` }));
    }
  }
  return { model: { ...model, graph: { ...model.graph, node: out } }, converted };
}
