/**
 * The small real model(s) `npm test` prepares (test/helpers/real-model.ts; Gemma 3 270M in CI):
 * the layer-6 prefix equals HF hidden_states[7] past the sliding window (Gemma 3: 512 tokens),
 * the suffix + unembedding reproduce HF logits over the whole vocabulary (262k for Gemma 3),
 * and splicing behaves on English text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoTokenizer } from '@huggingface/transformers';
import { join } from 'node:path';
import { loadModelFolder, readBinTensor } from '../../../stages/model/model-folder.js';
import { createSuffixRunner } from '../../../stages/model/prefix-runner.js';
import { createSplicer } from '../../../stages/model/splice.js';
import { readUnembedding } from '../../../stages/model/unembedding.js';
import { relError } from '../../../stages/model/verify-export.js';
import { realModelDir, realModels } from '../../helpers/real-model.js';

const LAYER = 6;

for (const name of realModels()) {
test(`${name}: prefix / suffix parity past the sliding window, splice sanity over the whole vocabulary`, async (t) => {
  const DIR = realModelDir(name);
  const folder = await loadModelFolder(DIR);
  const check = folder.meta.check!;
  const checkDir = join(DIR, 'check');
  const ids = (await readBinTensor(checkDir, check.inputIds)) as Int32Array;
  const refResid = (await readBinTensor(checkDir, check.residPost)) as Float32Array;
  const refLogits = (await readBinTensor(checkDir, check.logits)) as Float32Array;
  const { dModel: d, vocabSize: V } = folder.meta;
  const T = ids.length;
  const P = check.positions.length;
  assert.ok(check.positions[0] > (folder.meta.slidingWindow ?? 0));
  const splicer = await createSplicer({ modelDir: DIR, layer: LAYER });
  const trunk = await createSuffixRunner({ folder, layer: LAYER, device: 'cpu', output: 'final_hidden' });
  try {
    const resid = await splicer.residuals(ids, 1, T);
    const tail = resid.subarray((T - P) * d);
    assert.ok(relError(tail, refResid.subarray(LAYER * P * d, (LAYER + 1) * P * d)) < 1e-4, 'prefix = HF hidden_states[L+1]');
    const hidden = await trunk.run(resid, ids, 1, T);
    const u = await readUnembedding(folder);
    const logits = new Float32Array(P * V);
    for (let p = 0; p < P; p++) {
      for (let v = 0; v < V; v++) {
        let z = 0;
        for (let k = 0; k < d; k++) z += hidden[(T - P + p) * d + k] * u.weights[v * d + k];
        logits[p * V + v] = z;
      }
    }
    assert.ok(relError(logits, refLogits) < 1e-4, 'suffix + W_U = HF logits');
    const tokenizer = await AutoTokenizer.from_pretrained(DIR, { local_files_only: true });
    const text = 'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower.';
    const textIds = Int32Array.from(tokenizer.encode(text));
    const n = textIds.length;
    const clean = await splicer.residuals(textIds, 1, n);
    const result = await splicer.spliceLosses({ inputIds: textIds, batch: 1, seqLen: n, clean, replacements: [clean.slice(), new Float32Array(n * d)] });
    const mean = (x: Float32Array) => x.filter((v) => !Number.isNaN(v)).reduce((a, b) => a + b, 0) / (n - 1);
    assert.ok(Math.max(...result.kl[0].map(Math.abs)) < 1e-4, 'self-splice KL 0');
    assert.ok(Math.abs(mean(result.ce[0]) - mean(result.ceClean)) < 1e-5, 'self-splice CE = clean CE');
    const summary = { klZero: mean(result.kl[1]), ceZero: mean(result.ce[1]), ceClean: mean(result.ceClean) };
    t.diagnostic(JSON.stringify(summary));
    assert.ok(summary.ceClean < 4, `clean CE on English text: ${summary.ceClean}`);
    assert.ok(summary.klZero > 1 && summary.ceZero > summary.ceClean + 1, `zero ablation hurts: ${JSON.stringify(summary)}`);
  } finally {
    await splicer.dispose();
    await trunk.dispose();
  }
});
}
