import { readFileSync } from 'node:fs';
import { fixturePath } from '../../../helpers/paths.js';

/** A fixture group written by infra/dev/python/make_eval_reference.py. */
export interface EvalFixture {
  tensors: Record<string, { data: Float32Array | Int32Array; shape: number[] }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  expected: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  meta: any;
}

export function loadEvalFixture(group: string): EvalFixture {
  const body = JSON.parse(readFileSync(fixturePath('evaluate', group, 'fixture.json'), 'utf8'));
  const tensors: EvalFixture['tensors'] = {};
  for (const [name, info] of Object.entries(body.tensors as Record<string, { file: string; dtype: string; shape: number[] }>)) {
    const bytes = readFileSync(fixturePath('evaluate', group, info.file));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data = info.dtype === 'float32' ? new Float32Array(buffer) : new Int32Array(buffer);
    tensors[name] = { data, shape: info.shape };
  }
  return { tensors, expected: body.expected, meta: body.meta };
}

export function f32(fixture: EvalFixture, name: string): Float32Array {
  const t = fixture.tensors[name];
  if (!(t?.data instanceof Float32Array)) throw new Error(`fixture tensor ${name} is not float32`);
  return t.data;
}

export function i32(fixture: EvalFixture, name: string): Int32Array {
  const t = fixture.tensors[name];
  if (!(t?.data instanceof Int32Array)) throw new Error(`fixture tensor ${name} is not int32`);
  return t.data;
}

export function assertClose(actual: number, expected: number, tolerance: number, label: string): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`${label}: ${actual} differs from ${expected} by more than ${tolerance}`);
  }
}
