import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logitEffects, logitEffectsReference } from '../../../stages/report/logit-effects.js';
import { seededRandom } from '../../helpers/synthetic-report-input.js';

test('onnxruntime logit effects equal the plain-loop reference (ids exactly, values to 1e-4)', async () => {
  const rand = seededRandom(21);
  const latents = 70; // more than one onnxruntime batch of 64
  const dModel = 32;
  const vocab = 3000;
  const input = {
    directions: Float32Array.from({ length: latents * dModel }, () => rand() * 2 - 1),
    latents,
    unembed: Float32Array.from({ length: vocab * dModel }, () => rand() * 2 - 1),
    vocab,
    dModel,
    k: 10,
  };
  const fast = await logitEffects(input, { intraOpThreads: 1 });
  const ref = logitEffectsReference(input);
  assert.equal(fast.length, latents);
  fast.forEach((f, i) => {
    assert.deepEqual(f.upIds, ref[i].upIds, `latent ${i} up ids`);
    assert.deepEqual(f.downIds, ref[i].downIds, `latent ${i} down ids`);
    f.upValues.forEach((v, j) => assert.ok(Math.abs(v - ref[i].upValues[j]) < 1e-4, `up value ${i}/${j}`));
    f.downValues.forEach((v, j) => assert.ok(Math.abs(v - ref[i].downValues[j]) < 1e-4, `down value ${i}/${j}`));
    assert.ok(f.upValues[0] >= f.upValues[9] && f.downValues[0] <= f.downValues[9], 'sorted');
  });
});

test('k above the vocabulary is clipped; wrong sizes are bad input', async () => {
  // W_U rows [1,0], [0,1], [2,3]: latent [1,0] gives logits [1,0,2], latent [0,1] gives [0,1,3].
  const input = { directions: new Float32Array([1, 0, 0, 1]), latents: 2, unembed: new Float32Array([1, 0, 0, 1, 2, 3]), vocab: 3, dModel: 2, k: 5 };
  const out = await logitEffects(input);
  assert.deepEqual(out.map((o) => o.upIds), [[2, 0, 1], [2, 1, 0]]);
  assert.deepEqual(out.map((o) => o.downIds), [[1, 0, 2], [0, 1, 2]]);
  assert.deepEqual(out[0].upValues, [2, 1, 0]);
  assert.deepEqual(out.map((o) => o.upIds), logitEffectsReference(input).map((o) => o.upIds));
  await assert.rejects(logitEffects({ ...input, vocab: 4 }), /unembed \(W_U\) has 6 values/);
});
