/**
 * Plain-object ONNX protobuf pieces (ValueInfoProto, NodeProto, AttributeProto) for the graph
 * builder, in the field names of onnx.proto as protobufjs decodes it (keepCase).
 */
import { OnnxDataType, type ModelObject } from './onnx-proto.js';

export type FloatType = 'float32' | 'float64';
export type ElemType = FloatType | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'bool';
/** A dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

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

export function zeroBytes(type: FloatType): Buffer {
  return Buffer.alloc(type === 'float64' ? 8 : 4);
}

/** Loop body inputs after the first `skip` carry no fixed shape (their shapes change across graphs). */
export function clearShapes(inputs: ModelObject[], skip: number): void {
  for (const info of inputs.slice(skip)) delete info.type.tensor_type.shape;
}

export function valueInfo(name: string, elem: ElemType, shape?: Dim[]): ModelObject {
  const tensorType: ModelObject = { elem_type: ELEM[elem] };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) };
  }
  return { name, type: { tensor_type: tensorType } };
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue>, domain = ''): ModelObject {
  const attribute = Object.entries(attrs).map(([name, value]) => attribute_(name, value));
  const out: ModelObject = { op_type: opType, input: inputs, output: outputs, attribute };
  if (domain) out.domain = domain;
  return out;
}

function attribute_(name: string, value: AttrValue): ModelObject {
  if (typeof value === 'number') return { name, type: 2, i: value };
  if (typeof value === 'string') return { name, type: 3, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  if ('float' in value) return { name, type: 1, f: value.float };
  if ('floats' in value) return { name, type: 6, floats: value.floats };
  if ('graph' in value) return { name, type: 5, g: value.graph };
  return { name, type: 4, t: value.tensor };
}
