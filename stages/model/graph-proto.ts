/**
 * Small helpers to build ONNX protobuf objects (the plain-object form that onnx-proto.ts encodes):
 * value infos, nodes with typed attributes, and a model wrapper. Used by split-graph.ts to add
 * inputs/outputs to cut graphs and by head-graph.ts to build the vocabulary-chunk loss graph.
 */
import { OnnxDataType, type ModelObject } from '../../lib/onnx/onnx-proto.js';

export type Dim = number | string;
export type ElemType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** AttributeProto.AttributeType values used here. */
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

export function valueInfo(name: string, elemType: ElemType, dims: Dim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export type AttrValue = number | number[] | { float: number };

/** A NodeProto; integer attributes are numbers or number arrays, floats are `{ float: x }`. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
  name = `${opType}_${outputs[0]}`,
): Record<string, unknown> {
  const attribute = Object.entries(attrs).map(([key, value]) => {
    if (Array.isArray(value)) return { name: key, type: ATTR.INTS, ints: value };
    if (typeof value === 'object') return { name: key, type: ATTR.FLOAT, f: value.float };
    return { name: key, type: ATTR.INT, i: value };
  });
  return { name, op_type: opType, input: inputs, output: outputs, attribute };
}

/** A scalar or 1-D initializer held inline (raw little-endian bytes). */
export function constTensor(name: string, values: Float32Array | BigInt64Array, dims: number[]): Record<string, unknown> {
  const dataType = values instanceof Float32Array ? OnnxDataType.FLOAT : OnnxDataType.INT64;
  return { name, dims, data_type: dataType, raw_data: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

export function makeModel(graph: Record<string, unknown>, opset = 18): ModelObject {
  return {
    ir_version: 8,
    producer_name: 'temporal-sae',
    opset_import: [{ domain: '', version: opset }],
    graph,
  };
}
