import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EvalOptions } from '../../../schemas/eval.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { createRng } from '../../../stages/evaluate/random.js';
import { evaluateSplice } from '../../../stages/evaluate/splice-eval.js';
import { computeSpliceScores } from '../../../stages/evaluate/splice-scores.js';
import { writeActivationShard } from '../../../stages/extract/activation-shard-io.js';
import { createSplicer } from '../../../stages/model/splice.js';
import { writeSafetensors } from '../../../stages/train/safetensors.js';
import { fixturePath } from '../../helpers/paths.js';

/**
 * evaluateSplice from plain data (model folder, SAE folders, activation files) on the tiny
 * Gemma-2 fixture model: the same numbers as with the resources passed in, and each SAE's
 * numbers as when spliced alone through the real splicer (whose vocabulary chunks differ).
 */
const WINDOWS = 6;
const SEQ = 8;
const D_SAE = 48;

function reluWeights(dIn: number, seed: number) {
  const rng = createRng(seed);
  const wEnc = Float32Array.from({ length: dIn * D_SAE }, () => rng.normal() / Math.sqrt(dIn));
  const wDec = new Float32Array(D_SAE * dIn);
  for (let i = 0; i < D_SAE; i++) for (let j = 0; j < dIn; j++) wDec[i * dIn + j] = 0.5 * wEnc[j * D_SAE + i];
  return { dIn, dSae: D_SAE, wEnc, bEnc: new Float32Array(D_SAE).fill(-0.05), wDec, bDec: new Float32Array(dIn) };
}

test('evaluateSplice from model, SAE and activation paths equals the same splice with resources passed in', async () => {
  const modelDir = fixturePath('model', 'gemma2');
  const dir = await mkdtemp(join(tmpdir(), 'splice-paths-'));
  const graphDir = join(dir, 'graphs');
  const splicer = await createSplicer({ modelDir, layer: 1, graphDir, maxChunkBytes: 1 });
  try {
    const rng = createRng(3);
    const count = WINDOWS * SEQ;
    const ids = Int32Array.from({ length: count }, (_, i) => (i % SEQ === 0 ? 2 : 3 + rng.int(250)));
    const values = await splicer.residuals(ids, WINDOWS, SEQ);
    const dIn = values.length / count;
    const shard = {
      dModel: dIn, dtype: 'float32' as const, count, values, tokenIds: ids,
      rowIds: Int32Array.from({ length: count }, (_, i) => Math.floor(i / SEQ)),
      positions: Int32Array.from({ length: count }, (_, i) => i % SEQ),
      docIndex: new Int32Array(count), isSpecial: Uint8Array.from(ids, (t) => (t === 2 ? 1 : 0)),
      sourceSets: new Array(count).fill('test'), docIds: new Array(count).fill('doc'),
    };
    const files = [join(dir, 'a.arrow'), join(dir, 'b.arrow')];
    const half = (WINDOWS / 2) * SEQ;
    const part = (from: number, to: number) => ({
      ...shard, count: to - from, values: values.slice(from * dIn, to * dIn), tokenIds: ids.slice(from, to), rowIds: shard.rowIds.slice(from, to), positions: shard.positions.slice(from, to),
      docIndex: shard.docIndex.slice(from, to), isSpecial: shard.isSpecial.slice(from, to), sourceSets: shard.sourceSets.slice(from, to), docIds: shard.docIds.slice(from, to),
    });
    await writeActivationShard(files[0], part(0, half));
    await writeActivationShard(files[1], part(half, count));
    const weights = [reluWeights(dIn, 1), reluWeights(dIn, 2)];
    const saeDirs = await Promise.all(
      weights.map(async (w, s) => {
        const saeDir = join(dir, `sae${s}`);
        await mkdir(saeDir);
        await writeSafetensors(join(saeDir, 'sae.safetensors'), {
          W_enc: { data: w.wEnc, shape: [dIn, D_SAE] }, b_enc: { data: w.bEnc, shape: [D_SAE] }, W_dec: { data: w.wDec, shape: [D_SAE, dIn] }, b_dec: { data: w.bDec, shape: [dIn] },
        });
        await writeFile(join(saeDir, 'cfg.json'), JSON.stringify({ architecture: 'standard', d_in: dIn, d_sae: D_SAE }));
        return saeDir;
      }),
    );
    const options = EvalOptions.parse({ core: { batch_size_prompts: 4, bootstrap_resamples: 50 } }).core;
    const input = { modelDir, layer: 1, saes: [{ label: 'a', dir: saeDirs[0] }, { label: 'b', dir: saeDirs[1] }], activationFiles: files, options, threads: 1, graphDir };
    const fromPaths = await evaluateSplice(input, join(dir, 'paths'), defaultStageContext());
    const saes = weights.map((w, s) => ({ label: ['a', 'b'][s], sae: createPlainReluSae(w) }));
    const injected = await evaluateSplice(input, join(dir, 'injected'), defaultStageContext(), { splicer, saes });
    assert.equal(fromPaths.output.token_stats.prompts, WINDOWS);
    assert.equal(fromPaths.output.token_stats.batches, 2);
    for (const label of ['a', 'b']) {
      const got = fromPaths.output.saes[label].model_behavior_preservation.kl_div_score!;
      const want = injected.output.saes[label].model_behavior_preservation.kl_div_score!;
      assert.ok(Math.abs(got - want) < 1e-5, `${label}: ${got} vs ${want}`);
      assert.ok(got > 0 && got < 1, `a random SAE keeps some of the model's behaviour: ${got}`);
    }
    for (const [s, { sae }] of saes.entries()) {
      const alone = await computeSpliceScores(shard, sae, splicer, { batchPrompts: 4, maxBatches: null, excludeSpecialTokensFromReconstruction: true, zeroAblateSpecialTokens: true }, defaultStageContext());
      const together = injected.output.saes[saes[s].label];
      assert.ok(Math.abs(alone.metrics.kl_div_score - together.model_behavior_preservation.kl_div_score!) < 1e-5);
      assert.ok(Math.abs(alone.metrics.ce_loss_score - together.model_performance_preservation.ce_loss_score!) < 1e-5);
    }
  } finally {
    await splicer.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
