/**
 * Independent parity: checkpoints written by SAELens, sparsify and dictionary_learning with their
 * own classes (infra/dev/python/make_external_sae_fixtures.py), imported and run by our runtime,
 * give the libraries' own latents, reconstructions and metrics (l0, mse, explained variance,
 * cosine similarity computed by the evaluation's core pass).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalSaeInfo } from '../../../schemas/external-sae.js';
import { importExternalSae } from '../../../stages/external-sae/import-external-sae.js';
import { loadImportedSae } from '../../../stages/external-sae/imported-sae-runtime.js';
import { activeSets, assertClose, coreMetrics, fixtureCases } from './helpers.js';

/** Float32 results of two implementations summing in different orders (and folded biases). */
const TOL = 2e-5;
const EXPECTED: Record<string, { format: string; architecture: string; dtype: string }> = {
  'saelens-standard': { format: 'saelens', architecture: 'standard', dtype: 'float32' },
  'saelens-standard-layernorm-nobdec': { format: 'saelens', architecture: 'standard', dtype: 'float32' },
  'saelens-topk-rescaled-normrescale': { format: 'saelens', architecture: 'topk', dtype: 'float32' },
  'saelens-jumprelu-bf16-nobdec': { format: 'saelens', architecture: 'jumprelu', dtype: 'bfloat16' },
  'saelens-gated-f16-nobdec': { format: 'saelens', architecture: 'gated', dtype: 'float16' },
  'saelens-batchtopk': { format: 'saelens', architecture: 'jumprelu', dtype: 'float32' },
  'saelens-pre6-standard': { format: 'saelens', architecture: 'standard', dtype: 'float32' },
  'sparsify-topk': { format: 'sparsify', architecture: 'topk', dtype: 'float32' },
  'dictionary-learning-AutoEncoder': { format: 'dictionary_learning', architecture: 'standard', dtype: 'float32' },
  'dictionary-learning-AutoEncoderNew': { format: 'dictionary_learning', architecture: 'standard', dtype: 'float32' },
  'dictionary-learning-GatedAutoEncoder': { format: 'dictionary_learning', architecture: 'gated', dtype: 'float32' },
  'dictionary-learning-JumpReluAutoEncoder': { format: 'dictionary_learning', architecture: 'jumprelu', dtype: 'float32' },
  'dictionary-learning-AutoEncoderTopK': { format: 'dictionary_learning', architecture: 'topk', dtype: 'float32' },
  'dictionary-learning-BatchTopKSAE': { format: 'dictionary_learning', architecture: 'jumprelu', dtype: 'float32' },
  'dictionary-learning-MatryoshkaBatchTopKSAE': { format: 'dictionary_learning', architecture: 'jumprelu', dtype: 'float32' },
};

const cases = fixtureCases();

test('every fixture case is expected, and every expected case has a fixture', () => {
  assert.deepEqual(cases.map((c) => c.name).sort(), Object.keys(EXPECTED).sort());
});

for (const { name, dir, ref } of cases) {
  test(`${name} (${ref.library}): our loader and runtime reproduce the library's forward and metrics`, async () => {
    const out = await mkdtemp(join(tmpdir(), 'ext-sae-'));
    const info = await importExternalSae(join(dir, ref.folder), out, { dModel: ref.d_in, layer: ref.layer });
    assert.deepEqual(ExternalSaeInfo.parse(info), info, 'inspect output matches its schema');
    assert.deepEqual({ format: info.format, architecture: info.architecture, dtype: info.dtype }, EXPECTED[name]);
    assert.equal(info.hookName, `blocks.${ref.layer}.hook_resid_post`);
    assert.equal(info.dIn, ref.d_in);
    assert.equal(info.dSae, ref.d_sae);
    const sae = await loadImportedSae(out, { threads: 1 });
    try {
      const x = Float32Array.from(ref.x);
      const { latents, reconstruction } = await sae.forward(x, ref.rows);
      assert.deepEqual(activeSets(latents, ref.rows, ref.d_sae), activeSets(ref.latents, ref.rows, ref.d_sae), 'active latents per token');
      assertClose(latents, ref.latents, TOL, 'latents');
      assertClose(reconstruction, ref.reconstruction, TOL, 'reconstruction');
      assertClose(await sae.encode(x, ref.rows), ref.latents, TOL, 'encode');
      const m = await coreMetrics(sae, x, ref.rows);
      assert.equal(m.l0, ref.metrics.l0, 'l0');
      assertClose([m.mse, m.explained_variance, m.cossim], [ref.metrics.mse, ref.metrics.explained_variance, ref.metrics.cossim], 1e-5, 'mse, explained_variance, cossim');
    } finally {
      await sae.dispose();
    }
  });
}
