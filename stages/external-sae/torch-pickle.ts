/**
 * A restricted reader for the pickle inside a PyTorch checkpoint (`data.pkl`): it interprets the
 * opcodes of protocols 2-5 that a state dict of tensors uses (CPython Lib/pickletools.py documents
 * each) and builds plain values. Nothing from the file is executed: the only callables it accepts
 * are the handful torch.save emits for tensors and ordered dicts (torch/_utils.py
 * `_rebuild_tensor_v2`, `_rebuild_parameter`, collections.OrderedDict), which it models as data;
 * any other global refuses the file with its name.
 */
import { badInput } from '../../lib/core/errors.js';

/** A storage the pickle refers to by persistent id ('storage', torch.<Type>Storage, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  storageType: string;
  key: string;
  numel: number;
}

/** A tensor view of a storage (torch._utils._rebuild_tensor_v2 arguments). */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  stride: number[];
}

interface GlobalRef {
  kind: 'global';
  name: string;
}

export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleValue[] | Map<PickleValue, PickleValue> | GlobalRef | StorageRef | TensorRef;

const TENSOR_REBUILDERS = new Set(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor']);
const PARAMETER_REBUILDERS = new Set(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state']);
const ALLOWED = new Set(['collections.OrderedDict', ...TENSOR_REBUILDERS, ...PARAMETER_REBUILDERS]);

/** Evaluates the pickle in `bytes`; `path` names the checkpoint in errors. */
export function readPickle(bytes: Uint8Array, path: string): PickleValue {
  const machine = new PickleMachine(bytes, path);
  return machine.run();
}

class PickleMachine {
  private pos = 0;
  private stack: PickleValue[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly path: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string): Error {
    return badInput(`${this.path}: ${message} (pickle byte ${this.pos})`, { file: this.path });
  }

  run(): PickleValue {
    for (;;) {
      if (this.pos >= this.bytes.length) throw this.fail('pickle ends without STOP');
      const op = this.bytes[this.pos++];
      if (op === 0x2e) return this.pop(); // STOP
      this.step(op);
    }
  }

  private step(op: number): void {
    const push = (v: PickleValue): void => {
      this.stack.push(v);
    };
    switch (op) {
      case 0x80: this.pos += 1; return; // PROTO
      case 0x95: this.pos += 8; return; // FRAME
      case 0x28: this.marks.push(this.stack.length); return; // MARK
      case 0x7d: return push(new Map()); // EMPTY_DICT
      case 0x5d: case 0x29: return push([]); // EMPTY_LIST, EMPTY_TUPLE
      case 0x74: case 0x6c: return push(this.popMark()); // TUPLE, LIST
      case 0x85: return push([this.pop()]); // TUPLE1
      case 0x86: { const b = this.pop(); return push([this.pop(), b]); } // TUPLE2
      case 0x87: { const c = this.pop(); const b = this.pop(); return push([this.pop(), b, c]); } // TUPLE3
      case 0x64: return push(pairsToMap(this.popMark())); // DICT
      case 0x73: { const v = this.pop(); const k = this.pop(); this.topMap().set(k, v); return; } // SETITEM
      case 0x75: { const items = this.popMark(); const map = this.topMap(); for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]); return; } // SETITEMS
      case 0x61: { const v = this.pop(); this.topList().push(v); return; } // APPEND
      case 0x65: { const items = this.popMark(); this.topList().push(...items); return; } // APPENDS
      case 0x58: return push(this.text(this.u32())); // BINUNICODE
      case 0x8c: return push(this.text(this.u8())); // SHORT_BINUNICODE
      case 0x8d: return push(this.text(Number(this.u64()))); // BINUNICODE8
      case 0x54: return push(this.text(this.u32())); // BINSTRING (Python 2 str)
      case 0x55: return push(this.text(this.u8())); // SHORT_BINSTRING
      case 0x42: return push(this.raw(this.u32())); // BINBYTES
      case 0x43: return push(this.raw(this.u8())); // SHORT_BINBYTES
      case 0x4a: { const v = this.view.getInt32(this.pos, true); this.pos += 4; return push(v); } // BININT
      case 0x4b: return push(this.u8()); // BININT1
      case 0x4d: { const v = this.view.getUint16(this.pos, true); this.pos += 2; return push(v); } // BININT2
      case 0x8a: return push(this.long(this.u8())); // LONG1
      case 0x8b: return push(this.long(this.u32())); // LONG4
      case 0x47: { const v = this.view.getFloat64(this.pos, false); this.pos += 8; return push(v); } // BINFLOAT (big-endian)
      case 0x4e: return push(null); // NONE
      case 0x88: return push(true); // NEWTRUE
      case 0x89: return push(false); // NEWFALSE
      case 0x71: this.memo.set(this.u8(), this.peek()); return; // BINPUT
      case 0x72: this.memo.set(this.u32(), this.peek()); return; // LONG_BINPUT
      case 0x94: this.memo.set(this.memo.size, this.peek()); return; // MEMOIZE
      case 0x68: return push(this.recall(this.u8())); // BINGET
      case 0x6a: return push(this.recall(this.u32())); // LONG_BINGET
      case 0x63: { const module = this.line(); return push(this.global(module, this.line())); } // GLOBAL
      case 0x93: { const name = this.pop(); const module = this.pop(); return push(this.global(String(module), String(name))); } // STACK_GLOBAL
      case 0x51: return push(this.persistent(this.pop())); // BINPERSID
      case 0x52: { const args = this.pop(); return push(this.reduce(this.pop(), args)); } // REDUCE
      case 0x62: { this.pop(); const target = this.peek(); if (target instanceof Map || isKind(target, 'tensor')) return; throw this.fail('BUILD on an object other than a dict or tensor'); } // BUILD: attributes (OrderedDict._metadata), ignored
      default:
        throw this.fail(`pickle opcode 0x${op.toString(16)} is not used by a state dict of tensors`);
    }
  }

  private global(module: string, name: string): GlobalRef {
    const full = `${module}.${name}`;
    if (module === 'torch' && /^[A-Za-z0-9]+Storage$/.test(name)) return { kind: 'global', name: full };
    if (!ALLOWED.has(full)) throw this.fail(`pickle refers to ${full}, which a state dict of tensors does not need; refused (no code from checkpoints is run)`);
    return { kind: 'global', name: full };
  }

  private persistent(pid: PickleValue): StorageRef {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || !isKind(pid[1], 'global')) throw this.fail('persistent id is not a torch storage reference');
    const [, type, key, , numel] = pid as [string, GlobalRef, string, string, number];
    return { kind: 'storage', storageType: type.name.slice('torch.'.length), key: String(key), numel: Number(numel) };
  }

  private reduce(callable: PickleValue, args: PickleValue): PickleValue {
    if (!isKind(callable, 'global') || !Array.isArray(args)) throw this.fail('REDUCE without a known callable');
    if (callable.name === 'collections.OrderedDict') return new Map();
    if (PARAMETER_REBUILDERS.has(callable.name)) return args[0];
    if (TENSOR_REBUILDERS.has(callable.name)) {
      const [storage, offset, shape, stride] = args;
      if (!isKind(storage, 'storage') || !isIntArray(shape) || !isIntArray(stride) || typeof offset !== 'number') throw this.fail(`${callable.name} with unexpected arguments`);
      return { kind: 'tensor', storage, offset, shape, stride };
    }
    throw this.fail(`cannot call ${callable.name}`);
  }

  private pop(): PickleValue {
    if (this.stack.length === 0 || this.stack.length <= (this.marks.at(-1) ?? -1)) throw this.fail('stack underflow');
    return this.stack.pop()!;
  }
  private peek(): PickleValue {
    if (this.stack.length === 0) throw this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.fail('no MARK on the stack');
    return this.stack.splice(mark);
  }
  private topMap(): Map<PickleValue, PickleValue> {
    const top = this.peek();
    if (!(top instanceof Map)) throw this.fail('SETITEM(S) on a non-dict');
    return top;
  }
  private topList(): PickleValue[] {
    const top = this.peek();
    if (!Array.isArray(top)) throw this.fail('APPEND(S) on a non-list');
    return top;
  }
  private recall(index: number): PickleValue {
    if (!this.memo.has(index)) throw this.fail(`memo slot ${index} is empty`);
    return this.memo.get(index)!;
  }
  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  private raw(length: number): Uint8Array {
    this.need(length);
    const out = this.bytes.slice(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  private text(length: number): string {
    return Buffer.from(this.raw(length)).toString('utf8');
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw this.fail('GLOBAL without a newline');
    const out = Buffer.from(this.bytes.subarray(this.pos, end)).toString('utf8');
    this.pos = end + 1;
    return out;
  }
  /** Two's-complement little-endian integer of `length` bytes. */
  private long(length: number): number | bigint {
    const raw = this.raw(length);
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (raw.length > 0 && raw[raw.length - 1] & 0x80) value -= 1n << BigInt(8 * raw.length);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  private need(length: number): void {
    if (this.pos + length > this.bytes.length) throw this.fail('pickle truncated');
  }
}

function pairsToMap(items: PickleValue[]): Map<PickleValue, PickleValue> {
  const map = new Map<PickleValue, PickleValue>();
  for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
  return map;
}

function isKind<K extends 'global' | 'storage' | 'tensor'>(value: PickleValue, kind: K): value is Extract<PickleValue, { kind: K }> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof Uint8Array) && (value as { kind?: string }).kind === kind;
}

function isIntArray(value: PickleValue): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v));
}
