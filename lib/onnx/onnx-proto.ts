import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { projectPath } from '../core/package-root.js';

/**
 * ONNX protobuf messages, decoded and encoded by protobufjs from the official onnx.proto
 * (copied from the onnx 1.23 Python package, Apache-2.0). Used to build training graphs and
 * to split exported language models; the runtime itself is onnxruntime-node.
 */
let root: protobuf.Root | undefined;

function onnxRoot(): protobuf.Root {
  if (!root) {
    const text = readFileSync(projectPath('lib', 'onnx', 'onnx.proto'), 'utf8');
    root = protobuf.parse(text, { keepCase: true }).root;
  }
  return root;
}

export function onnxType(name: 'ModelProto' | 'GraphProto' | 'NodeProto' | 'TensorProto'): protobuf.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}

/** ONNX TensorProto.DataType values used in this project. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;
export type OnnxDataTypeName = keyof typeof OnnxDataType;

/** Plain-object view of a decoded ModelProto (protobufjs toObject with longs as numbers). */
export type ModelObject = Record<string, any>;

export function decodeModel(bytes: Uint8Array): ModelObject {
  const type = onnxType('ModelProto');
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Buffer, defaults: false }) as ModelObject;
}

export function encodeModel(model: ModelObject): Uint8Array {
  const type = onnxType('ModelProto');
  const message = type.fromObject(model);
  return type.encode(message).finish();
}
