/**
 * A PyTorch state-dict checkpoint (`torch.save(state_dict, "ae.pt")`, the ZIP format of torch >= 1.6)
 * as float32 tensors: the ZIP entries (zip-archive.ts), the restricted pickle (torch-pickle.ts),
 * and each tensor's elements gathered from `<prefix>/data/<key>` by its offset, shape and stride.
 * The legacy pre-1.6 format (a bare pickle stream) and big-endian archives are refused.
 */
import { badInput } from '../../lib/core/errors.js';
import { halfToFloat } from '../../lib/core/half.js';
import { readPickle, type PickleValue, type TensorRef } from './torch-pickle.js';
import { zipEntries } from './zip-archive.js';

export interface CheckpointTensor {
  /** Elements in row-major order, widened (or rounded, for 64-bit types) to float32. */
  data: Float32Array;
  shape: number[];
  /** The torch storage type it was saved as, e.g. FloatStorage. */
  storageType: string;
}

/** Bytes per element and a little-endian reader per torch storage type. */
const STORAGE_TYPES: Record<string, { bytes: number; read: (v: DataView, at: number) => number }> = {
  FloatStorage: { bytes: 4, read: (v, at) => v.getFloat32(at, true) },
  DoubleStorage: { bytes: 8, read: (v, at) => v.getFloat64(at, true) },
  HalfStorage: { bytes: 2, read: (v, at) => halfToFloat(v.getUint16(at, true)) },
  BFloat16Storage: { bytes: 2, read: (v, at) => new Float32Array(new Uint32Array([v.getUint16(at, true) << 16]).buffer)[0] },
  IntStorage: { bytes: 4, read: (v, at) => v.getInt32(at, true) },
  LongStorage: { bytes: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  ShortStorage: { bytes: 2, read: (v, at) => v.getInt16(at, true) },
  CharStorage: { bytes: 1, read: (v, at) => v.getInt8(at) },
  ByteStorage: { bytes: 1, read: (v, at) => v.getUint8(at) },
  BoolStorage: { bytes: 1, read: (v, at) => v.getUint8(at) },
};

/** Reads the tensors of a state-dict checkpoint; non-tensor entries are left out. */
export function readTorchStateDict(bytes: Buffer, path: string): Record<string, CheckpointTensor> {
  if (bytes.length >= 2 && bytes[0] === 0x80) {
    throw badInput(`${path}: a legacy (pre-1.6) torch.save file; re-save it with torch >= 1.6 (the default ZIP format)`, { file: path });
  }
  const entries = zipEntries(bytes, path);
  const pklName = [...entries.keys()].find((name) => name.endsWith('data.pkl') && name.split('/').length === 2);
  if (!pklName) throw badInput(`${path}: no <archive>/data.pkl entry; not a torch.save checkpoint`, { file: path });
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`)?.toString('utf8').trim();
  if (byteorder && byteorder !== 'little') throw badInput(`${path}: byteorder '${byteorder}' is not supported (little-endian only)`, { file: path });
  const root = readPickle(entries.get(pklName)!, path);
  if (!(root instanceof Map)) throw badInput(`${path}: the checkpoint is not a dict of tensors (a state_dict())`, { file: path });
  const out: Record<string, CheckpointTensor> = {};
  for (const [key, value] of root) {
    if (typeof key !== 'string' || !isTensor(value)) continue;
    const storage = entries.get(`${prefix}data/${value.storage.key}`);
    if (!storage) throw badInput(`${path}: tensor '${key}' refers to storage ${value.storage.key}, which the archive lacks`, { file: path, tensor: key });
    out[key] = { data: gather(value, storage, `${path}: tensor '${key}'`), shape: value.shape, storageType: value.storage.storageType };
  }
  return out;
}

function isTensor(value: PickleValue): value is TensorRef {
  return typeof value === 'object' && value !== null && (value as { kind?: string }).kind === 'tensor';
}

/** The tensor's elements in row-major order, following its strides through the storage. */
function gather(t: TensorRef, storage: Buffer, where: string): Float32Array {
  const type = STORAGE_TYPES[t.storage.storageType];
  if (!type) throw badInput(`${where} is stored as ${t.storage.storageType}; readable: ${Object.keys(STORAGE_TYPES).join(', ')}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const elements = storage.length / type.bytes;
  const last = count === 0 ? t.offset : t.offset + t.shape.reduce((s, d, i) => s + (d - 1) * t.stride[i], 0);
  if (t.shape.length !== t.stride.length || t.offset < 0 || last >= Math.max(elements, 1) || t.stride.some((s) => s < 0)) {
    throw badInput(`${where}: shape [${t.shape}] with stride [${t.stride}] at offset ${t.offset} does not fit its storage of ${elements} elements`);
  }
  const out = new Float32Array(count);
  if (t.storage.storageType === 'FloatStorage' && isRowMajor(t.shape, t.stride)) {
    // The common case (a saved state dict is contiguous float32): one copy.
    new Uint8Array(out.buffer).set(storage.subarray(t.offset * 4, (t.offset + count) * 4));
    return out;
  }
  const view = new DataView(storage.buffer, storage.byteOffset, storage.byteLength);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let n = 0; n < count; n++) {
    let at = t.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
    out[n] = type.read(view, at * type.bytes);
    for (let d = index.length - 1; d >= 0 && ++index[d] === t.shape[d]; d--) index[d] = 0;
  }
  return out;
}

function isRowMajor(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}
