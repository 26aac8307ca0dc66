import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../helpers/paths.js';
import { loadModelFolder, readBinTensor } from '../../../stages/model/model-folder.js';
import { createPrefixRunner, createSuffixRunner } from '../../../stages/model/prefix-runner.js';

/** Relative error ||a - b|| / ||b|| over a slice. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const TOL = 1e-4;

for (const arch of ['gemma2', 'gemma3', 'llama']) {
  test(`${arch}: prefix = HF hidden_states[L+1] and suffix(prefix) = full logits, past the sliding window`, async () => {
    const dir = fixturePath('model', arch);
    const folder = await loadModelFolder(dir);
    const refDir = join(dir, 'reference');
    const ref = JSON.parse(await readFile(join(refDir, 'reference.json'), 'utf8'));
    const ids = (await readBinTensor(refDir, ref.inputIds)) as Int32Array;
    const [batch, seqLen] = ref.inputIds.shape;
    if (ref.slidingWindow) assert.ok(seqLen > 2 * ref.slidingWindow, 'reference must reach past the window');
    const resid = (await readBinTensor(refDir, ref.residPost)) as Float32Array;
    const logits = (await readBinTensor(refDir, ref.logits)) as Float32Array;
    const graphDir = await mkdtemp(join(tmpdir(), 'tsae-parity-'));
    try {
      const { numLayers, dModel } = folder.meta;
      const per = batch * seqLen * dModel;
      for (let layer = 0; layer < numLayers; layer++) {
        const prefix = await createPrefixRunner({ folder, layer, dtype: 'float32', device: 'cpu', graphDir });
        const got = (await prefix.run(ids, batch, seqLen)) as Float32Array;
        const expected = resid.subarray(layer * per, (layer + 1) * per);
        const err = relError(got, expected);
        assert.ok(err < TOL, `layer ${layer}: prefix rel error ${err}`);
        // Positions past the window alone, so an error there cannot hide in the average.
        if (ref.slidingWindow) {
          const tailErr = relError(got.subarray(per - dModel * 4), expected.subarray(per - dModel * 4));
          assert.ok(tailErr < TOL, `layer ${layer}: tail rel error ${tailErr}`);
        }
        const suffix = await createSuffixRunner({ folder, layer, device: 'cpu', output: 'logits', graphDir });
        const out = await suffix.run(got, ids, batch, seqLen);
        const lerr = relError(out, logits);
        assert.ok(lerr < TOL, `layer ${layer}: suffix(prefix) logits rel error ${lerr}`);
        await prefix.dispose();
        await suffix.dispose();
      }
    } finally {
      await rm(graphDir, { recursive: true, force: true });
    }
  });
}
