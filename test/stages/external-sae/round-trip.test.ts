/**
 * Round trip: an SAE trained and exported by our own trainer, read back as an external SAELens
 * folder, is the same SAE: the imported weights file is byte-identical, and latents,
 * reconstructions and the core eval's metrics equal those of the trained folder's own runtime.
 * The content address is stable and follows the bytes; imports of the same bytes are byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfig, TRAIN_VARIANTS, type TrainConfigInput } from '../../../schemas/train.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { importExternalSae } from '../../../stages/external-sae/import-external-sae.js';
import { loadImportedSae } from '../../../stages/external-sae/imported-sae-runtime.js';
import { inspectExternalSae } from '../../../stages/external-sae/inspect-external-sae.js';
import { loadSae } from '../../../stages/train/sae-runtime.js';
import { trainSae } from '../../../stages/train/train-sae.js';
import { syntheticTable } from '../train/synthetic.js';
import { coreMetrics } from './helpers.js';

const DATA = { dIn: 16, features: 48, active: 3, tokens: 4096, seqLen: 16, seed: 5, dtype: 'float32' as const };
const LAYER = 3;
const COMMON = { dSae: 32, batchSize: 128, steps: 30, warmupSteps: 5, lr: 3e-3, checkpointEvery: 1000, logEvery: 10, hookName: `blocks.${LAYER}.hook_resid_post`, modelName: 'synthetic' };
const PER_VARIANT: Record<string, Record<string, unknown>> = { topk: { k: 4 }, batchtopk: { k: 4 }, atr: { targetL0: 6 } };
const table = syntheticTable(DATA);
const EVAL_ROWS = 256;
const x = table.values.slice(0, EVAL_ROWS * DATA.dIn) as Float32Array;

for (const variant of TRAIN_VARIANTS) {
  test(`${variant}: our trained export, imported as an external SAE, gives identical outputs and metrics`, async (t) => {
    const trained = await mkdtemp(join(tmpdir(), `ext-rt-${variant}-`));
    const imported = await mkdtemp(join(tmpdir(), `ext-rt-${variant}-imp-`));
    t.after(() => Promise.all([rm(trained, { recursive: true, force: true }), rm(imported, { recursive: true, force: true })]));
    const cfg = TrainConfig.parse({ variant, ...COMMON, ...PER_VARIANT[variant] } as TrainConfigInput);
    await trainSae({ data: [table], config: cfg, seed: 7, device: 'cpu' }, trained, defaultStageContext());

    const info = await importExternalSae(trained, imported, { dModel: DATA.dIn, layer: LAYER });
    assert.equal(info.format, 'saelens');
    assert.deepEqual(info.transforms, [], 'our own export needs no rewrite');
    assert.deepEqual(await readFile(join(imported, 'sae.safetensors')), await readFile(join(trained, 'sae.safetensors')), 'weights byte-identical');

    const own = await loadSae(trained, { threads: 1 });
    const external = await loadImportedSae(imported, { threads: 1 });
    try {
      const a = await own.forward(x, EVAL_ROWS);
      const b = await external.forward(x, EVAL_ROWS);
      assert.deepEqual(b.latents, a.latents);
      assert.deepEqual(b.reconstruction, a.reconstruction);
      assert.deepEqual(await coreMetrics(external, x, EVAL_ROWS), await coreMetrics(own, x, EVAL_ROWS));
    } finally {
      await Promise.all([own.dispose(), external.dispose()]);
    }
  });
}

test('the content address is stable, ignores the folder path, and changes with one weight byte', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ext-sha-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cfg = TrainConfig.parse({ variant: 'standard', ...COMMON } as TrainConfigInput);
  await trainSae({ data: [table], config: cfg, seed: 7, device: 'cpu' }, join(dir, 'a'), defaultStageContext());
  const first = await inspectExternalSae(join(dir, 'a'));
  const again = await inspectExternalSae(join(dir, 'a'));
  assert.equal(again.sha256, first.sha256);
  assert.match(first.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(first.files.map((f) => f.file).sort(), ['cfg.json', 'sae_weights.safetensors']);
  await cp(join(dir, 'a'), join(dir, 'moved'), { recursive: true });
  assert.equal((await inspectExternalSae(join(dir, 'moved'))).sha256, first.sha256, 'a copy elsewhere has the same address');
  for (const from of ['a', 'moved']) await importExternalSae(join(dir, from), join(dir, `imported-${from}`));
  for (const file of ['cfg.json', 'source.json', 'sae.safetensors']) {
    assert.deepEqual(await readFile(join(dir, 'imported-moved', file)), await readFile(join(dir, 'imported-a', file)), `${file}: same bytes from either path`);
  }
  const weights = join(dir, 'moved', 'sae_weights.safetensors');
  const bytes = await readFile(weights);
  await rm(weights); // a hard link to sae.safetensors: replace it rather than write through
  bytes[bytes.length - 1] ^= 1;
  await writeFile(weights, bytes);
  assert.notEqual((await inspectExternalSae(join(dir, 'moved'))).sha256, first.sha256);
});
