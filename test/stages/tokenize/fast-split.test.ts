import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitAtSafeSpaces, unsafeBeforeSpace } from '../../../stages/tokenize/fast-split.js';

const gemmaShape = (vocab: Record<string, number>, added: string[] = []) => ({
  normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
  pre_tokenizer: null,
  model: { type: 'BPE', vocab },
  added_tokens: added.map((content, id) => ({ id: 1000 + id, content })),
});

test('unsafeBeforeSpace finds characters that a token joins to a following space', () => {
  const unsafe = unsafeBeforeSpace(gemmaShape({ a: 0, '▁b': 1, '>▁</': 2, '▁▁': 3 }, ['x y']));
  assert.deepEqual([...unsafe!].sort(), ['>', 'x']);
});

test('unsafeBeforeSpace refuses tokenizers whose pre-tokenizer or normalizer is not local (no fast path)', () => {
  assert.equal(unsafeBeforeSpace({ ...gemmaShape({}), pre_tokenizer: { type: 'ByteLevel' } }), null);
  assert.equal(unsafeBeforeSpace({ ...gemmaShape({}), normalizer: null }), null);
  assert.equal(unsafeBeforeSpace({ ...gemmaShape({}), model: { type: 'Unigram', vocab: {} } }), null);
  assert.notEqual(unsafeBeforeSpace({ ...gemmaShape({}), pre_tokenizer: { type: 'Split', pattern: { String: ' ' } } }), null);
});

test('splitAtSafeSpaces cuts before space runs only after safe characters and loses nothing', () => {
  const unsafe = new Set(['>', '😀']);
  assert.deepEqual(splitAtSafeSpaces('a b  c> d😀 e🤗 f', unsafe), ['a', ' b', '  c> d😀 e🤗', ' f']);
  assert.deepEqual(splitAtSafeSpaces('  lead', unsafe), ['  lead']);
  assert.deepEqual(splitAtSafeSpaces('', unsafe), ['']);
  const text = 'x'.repeat(10) + ' \t y  z\n w ';
  assert.equal(splitAtSafeSpaces(text, unsafe).join(''), text);
});
