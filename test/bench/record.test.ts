/** A bench record whose reference did not run is refused, never written with a blank ratio. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordProblems, type BenchRecord } from '../../bench/record.js';
import { ReferenceFailedError, referenceFailed } from '../../bench/toolchain.js';

const base: BenchRecord = { stage: 'tokenize', case: 'demo sample', metric: 'throughput', value: 1000, unit: 'tokens/s', reference: 'HF tokenizers', referenceValue: 800, ratio: 1.25 };

test('a record with a named reference needs its value and ratio', () => {
  assert.deepEqual(recordProblems(base), []);
  assert.deepEqual(recordProblems({ ...base, referenceValue: null, ratio: null }), [
    "tokenize / demo sample / throughput: reference 'HF tokenizers' has no value",
    "tokenize / demo sample / throughput: reference 'HF tokenizers' has no ratio",
  ]);
  assert.deepEqual(recordProblems({ ...base, ratio: NaN }), ["tokenize / demo sample / throughput: reference 'HF tokenizers' has no ratio"]);
  assert.deepEqual(recordProblems({ ...base, reference: null }), ['tokenize / demo sample / throughput: a reference value or ratio without a named reference']);
  assert.deepEqual(recordProblems({ ...base, value: Infinity }), ['tokenize / demo sample / throughput: value is Infinity']);
  // A plain measurement (null by design, beside its ratio record) passes.
  assert.deepEqual(recordProblems({ ...base, reference: null, referenceValue: null, ratio: null }), []);
});

test('a reference that cannot run throws, naming the area and the reason', () => {
  assert.throws(() => referenceFailed('train', 'pytorch-2.13-cpu', 'exit 1: ModuleNotFoundError: torch'), (error: unknown) =>
    error instanceof ReferenceFailedError && error.message === 'train: the reference (pytorch-2.13-cpu) could not run: exit 1: ModuleNotFoundError: torch');
});
