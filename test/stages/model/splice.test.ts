import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../helpers/paths.js';
import { loadModelFolder, readBinTensor } from '../../../stages/model/model-folder.js';
import { createSuffixRunner } from '../../../stages/model/prefix-runner.js';
import { createSplicer } from '../../../stages/model/splice.js';

/** Reference per-token CE and KL from full logits [N, V], in float64. */
function referenceLosses(clean: Float32Array, other: Float32Array, ids: Int32Array, seqLen: number, V: number) {
  const N = ids.length;
  const lse = (z: Float32Array, n: number) => {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, z[n * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[n * V + v] - m);
    return m + Math.log(s);
  };
  const ce = new Float64Array(N);
  const kl = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const lc = lse(clean, n);
    const lo = lse(other, n);
    let k = 0;
    for (let v = 0; v < V; v++) {
      const pc = clean[n * V + v] - lc;
      k += Math.exp(pc) * (pc - (other[n * V + v] - lo));
    }
    kl[n] = k;
    ce[n] = n % seqLen === seqLen - 1 ? NaN : lo - other[n * V + ids[n + 1]];
  }
  return { ce, kl };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) {
      assert.ok(Number.isNaN(got[i]), `${what}[${i}] should be NaN`);
      continue;
    }
    assert.ok(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

for (const arch of ['gemma2', 'gemma3', 'llama']) {
  test(`${arch}: splice self = clean (KL 0), zeros = ablation reference, chunked over the vocabulary`, async () => {
    const dir = fixturePath('model', arch);
    const folder = await loadModelFolder(dir);
    const refDir = join(dir, 'reference');
    const ref = JSON.parse(await readFile(join(refDir, 'reference.json'), 'utf8'));
    const ids = (await readBinTensor(refDir, ref.inputIds)) as Int32Array;
    const hfLogits = (await readBinTensor(refDir, ref.logits)) as Float32Array;
    const [batch, seqLen] = ref.inputIds.shape;
    const { vocabSize: V } = folder.meta;
    const graphDir = await mkdtemp(join(tmpdir(), 'tsae-splice-'));
    const layer = 1;
    // A tiny chunk budget forces several vocabulary chunks (259 rows -> 128-row chunks).
    const splicer = await createSplicer({ modelDir: dir, layer, graphDir, maxChunkBytes: 1 });
    const logitsRunner = await createSuffixRunner({ folder, layer, device: 'cpu', output: 'logits', graphDir });
    try {
      const clean = await splicer.residuals(ids, batch, seqLen);
      const zeros = new Float32Array(clean.length);
      const result = await splicer.spliceLosses({ inputIds: ids, batch, seqLen, clean, replacements: [clean.slice(), zeros] });
      const hfRef = referenceLosses(hfLogits, hfLogits, ids, seqLen, V);
      assertClose(result.ceClean, hfRef.ce, 1e-4, 'ceClean vs HF');
      assertClose(result.ce[0], result.ceClean, 1e-6, 'self CE');
      for (const k of result.kl[0]) assert.ok(Math.abs(k) < 1e-6, `self KL ${k}`);
      const zeroLogits = await logitsRunner.run(zeros, ids, batch, seqLen);
      const zeroRef = referenceLosses(hfLogits, zeroLogits, ids, seqLen, V);
      assertClose(result.ce[1], zeroRef.ce, 1e-4, 'ablation CE');
      assertClose(result.kl[1], zeroRef.kl, 1e-4, 'ablation KL');
      const meanKl = result.kl[1].reduce((a, b) => a + b, 0) / result.kl[1].length;
      assert.ok(meanKl > 1e-3, `zero ablation must move the distribution (mean KL ${meanKl})`);
    } finally {
      await splicer.dispose();
      await logitsRunner.dispose();
      await rm(graphDir, { recursive: true, force: true });
    }
  });
}
