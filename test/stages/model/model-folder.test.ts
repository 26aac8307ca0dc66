import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../helpers/paths.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { hookName, loadModelFolder, modelHash } from '../../../stages/model/model-folder.js';
import { defaultModelName } from '../../../stages/model/prepare-model.js';
import { residualTensor } from '../../../stages/model/split-graph.js';
import { readUnembedding, projectOnUnembedding } from '../../../stages/model/unembedding.js';
import { verifyExport } from '../../../stages/model/verify-export.js';

async function copyFixture(arch: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-folder-'));
  await cp(fixturePath('model', arch), dir, { recursive: true });
  return dir;
}

test('post-export check passes on every fixture and fails on a perturbed reference', async () => {
  for (const arch of ['gemma2', 'gemma3', 'llama']) {
    const dir = await copyFixture(arch);
    try {
      const folder = await loadModelFolder(dir);
      const check = await verifyExport(folder);
      assert.ok(check.passed, `${arch}: ${JSON.stringify(check)}`);
      if (folder.meta.slidingWindow) assert.ok(check.positions[0] > folder.meta.slidingWindow, 'checked positions lie past the window');
      const logitsPath = join(dir, 'check', 'logits.bin');
      const bytes = await readFile(logitsPath);
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      for (let i = 0; i < values.length; i += 7) values[i] += 0.05;
      await writeFile(logitsPath, new Uint8Array(values.buffer));
      assert.equal((await verifyExport(folder)).passed, false, `${arch}: a perturbed reference must fail`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('folder validation names the missing file and the allowed layers', async () => {
  const dir = await copyFixture('llama');
  try {
    const folder = await loadModelFolder(dir);
    assert.throws(() => residualTensor(folder, 3), (e: unknown) => e instanceof TsaeError && /allowed 0\.\.2/.test(e.message));
    assert.equal(hookName(2), 'blocks.2.hook_resid_post');
    const hash = await modelHash(folder);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(await modelHash(folder), hash);
    await rm(join(dir, 'tokenizer.json'));
    await assert.rejects(loadModelFolder(dir), /lacks tokenizer\.json/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(defaultModelName('gemma3-270m'), 'gemma3-270m');
  assert.equal(defaultModelName('google/gemma-2-2b'), 'google--gemma-2-2b');
});

test('readUnembedding returns W_U [V, d]: final_hidden @ W_U^T reproduces the HF logits', async () => {
  for (const arch of ['gemma2', 'gemma3', 'llama']) {
    const dir = fixturePath('model', arch);
    const u = await readUnembedding(dir);
    const ref = JSON.parse(await readFile(join(dir, 'reference', 'reference.json'), 'utf8'));
    const hidden = new Float32Array((await readFile(join(dir, 'reference', ref.finalHidden.file))).buffer.slice(0));
    const logits = new Float32Array((await readFile(join(dir, 'reference', ref.logits.file))).buffer.slice(0));
    const { vocabSize: V, dModel: d } = u;
    for (const n of [0, 5, 30]) {
      for (const v of [0, 17, V - 1]) {
        let z = 0;
        for (let k = 0; k < d; k++) z += hidden[n * d + k] * u.weights[v * d + k];
        if (u.softcap) z = u.softcap * Math.tanh(z / u.softcap);
        assert.ok(Math.abs(z - logits[n * V + v]) < 1e-4 * Math.max(1, Math.abs(z)), `${arch} token ${n} vocab ${v}`);
      }
    }
    const direction = u.weights.slice(42 * d, 43 * d);
    const { top, bottom } = projectOnUnembedding(u, direction, 1, 3);
    const scores = Array.from({ length: V }, (_, v) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += u.weights[v * d + k] * direction[k];
      return s;
    });
    const sorted = [...scores].sort((a, b) => b - a);
    assert.deepEqual([...top[0].values].map((x) => x.toFixed(4)), sorted.slice(0, 3).map((x) => x.toFixed(4)));
    assert.deepEqual([...bottom[0].values].map((x) => x.toFixed(4)), sorted.slice(-3).reverse().map((x) => x.toFixed(4)));
    top[0].ids.forEach((id, i) => assert.ok(Math.abs(scores[id] - top[0].values[i]) < 1e-4));
  }
});
