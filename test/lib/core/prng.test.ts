/**
 * The one mulberry32. Pinned values: seed 1's first draw 0.6270739405881613 is the value of the
 * reference implementation (bryc, "PRNGs in JavaScript", mulberry32); the rest were drawn by the
 * three copies this module replaced, so a change to it shows here before it moves an eval number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../lib/core/prng.js';
import { createRng } from '../../../stages/evaluate/random.js';

test('mulberry32 draws the reference sequence', () => {
  const r = mulberry32(1);
  assert.deepEqual([r(), r(), r()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
});

test('seeds are taken as uint32: -1 and 2^32-1 give one stream', () => {
  const a = mulberry32(-1);
  const b = mulberry32(2 ** 32 - 1);
  for (let i = 0; i < 100; i++) assert.equal(a(), b());
});

test('createRng keeps its golden-ratio offset', () => {
  const r = createRng(7);
  assert.deepEqual([r.next(), r.next(), r.next()], [0.9823943767696619, 0.3341257639694959, 0.6892532545607537]);
});
