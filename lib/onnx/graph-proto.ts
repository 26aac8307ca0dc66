/**
 * Plain-object ONNX protobuf pieces (ValueInfoProto, NodeProto, AttributeProto, TensorProto,
 * ModelProto) in the field names of onnx.proto as protobufjs decodes it (keepCase), so
 * onnx-proto.ts can encode them. The one place that writes these objects: the training graph
 * builder (graph-builder.ts) and the model stage's graph surgery (stages/model/split-graph.ts,
 * head-graph.ts, autocast.ts) both use it.
 */
import { OnnxDataType, type ModelObject } from './onnx-proto.js';

export type FloatType = 'float32' | 'float64';
export type ElemType = FloatType | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool';
/** An element type by name, or a raw TensorProto.DataType code (as read from an exported graph). */
export type ElemTypeOrCode = ElemType | number;
/** A dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

/** ONNX opset the graphs we write target (ReduceX take axes as inputs; ScatterND has reduction). */
export const OPSET = 18;
/** ModelProto.ir_version matching opset 18 (onnx/onnx docs/Versioning.md). */
export const IR_VERSION = 8;

export type AttrValue =
  | number
  | string
  | number[]
  | { float: number }
  | { floats: number[] }
  | { graph: ModelObject }
  | { tensor: ModelObject };

export const ELEM: Record<ElemType, number> = {
  float32: OnnxDataType.FLOAT,
  float64: OnnxDataType.DOUBLE,
  float16: OnnxDataType.FLOAT16,
  bfloat16: OnnxDataType.BFLOAT16,
  int64: OnnxDataType.INT64,
  int32: OnnxDataType.INT32,
  bool: OnnxDataType.BOOL,
};

/** The TensorProto.DataType code of `elem`. */
export function elemCode(elem: ElemTypeOrCode): number {
  return typeof elem === 'number' ? elem : ELEM[elem];
}

/** Loop body inputs after the first `skip` carry no fixed shape (their shapes change across graphs). */
export function clearShapes(inputs: ModelObject[], skip: number): void {
  for (const info of inputs.slice(skip)) delete info.type.tensor_type.shape;
}

/** A ValueInfoProto; without `shape` the tensor's rank is left open. */
export function valueInfo(name: string, elem: ElemTypeOrCode, shape?: Dim[]): ModelObject {
  const tensorType: ModelObject = { elem_type: elemCode(elem) };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) };
  }
  return { name, type: { tensor_type: tensorType } };
}

export interface NodeOptions {
  /** NodeProto.name; graph surgery names its nodes `tsae_*` so they stand out in Netron. */
  name?: string;
  /** Operator domain ('' is the default ONNX domain; 'com.microsoft' for ORT contrib ops). */
  domain?: string;
}

/** A NodeProto: integer attributes are numbers or number arrays, floats `{ float: x }`. */
export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, options: NodeOptions = {}): ModelObject {
  const attribute = Object.entries(attrs).map(([name, value]) => attributeProto(name, value));
  const out: ModelObject = { op_type: opType, input: inputs, output: outputs, attribute };
  if (options.name) out.name = options.name;
  if (options.domain) out.domain = options.domain;
  return out;
}

/** AttributeProto with its AttributeType code (FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7). */
function attributeProto(name: string, value: AttrValue): ModelObject {
  if (typeof value === 'number') return { name, type: 2, i: value };
  if (typeof value === 'string') return { name, type: 3, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  if ('float' in value) return { name, type: 1, f: value.float };
  if ('floats' in value) return { name, type: 6, floats: value.floats };
  if ('graph' in value) return { name, type: 5, g: value.graph };
  return { name, type: 4, t: value.tensor };
}

/**
 * A TensorProto holding `values` inline as raw little-endian bytes, of shape `dims`. The element
 * type follows the array (Float32Array float32, Float64Array float64, BigInt64Array int64) unless
 * `elem` names another one of the same width. `name` is left out for Constant node values.
 */
export function constTensor(name: string | undefined, values: Float32Array | Float64Array | BigInt64Array, dims: number[], elem?: ElemType): ModelObject {
  const type = elem ?? (values instanceof Float64Array ? 'float64' : values instanceof BigInt64Array ? 'int64' : 'float32');
  const tensor: ModelObject = { dims, data_type: ELEM[type], raw_data: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
  if (name !== undefined) tensor.name = name;
  return tensor;
}

/** A ModelProto around `graph`, importing the default ONNX domain at `opset`. */
export function makeModel(graph: ModelObject, opset = OPSET): ModelObject {
  return { ir_version: IR_VERSION, producer_name: 'temporal-sae', opset_import: [{ domain: '', version: opset }], graph };
}
