import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultStageContext } from '../../../lib/core/context.js';
import { activationRows } from '../../../stages/evaluate/activation-windows.js';
import { CoreMetricsAccumulator } from '../../../stages/evaluate/core-metrics.js';
import type { SaeForEval } from '../../../stages/evaluate/interfaces.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { computeSpliceScores, type SpliceOptions } from '../../../stages/evaluate/splice-scores.js';
import { runTokenPass } from '../../../stages/evaluate/token-pass.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';
import { createTinySplicer, tableFromWindows } from './helpers/tiny-model.js';

const fixture = loadEvalFixture('core');
const [rows, seqLen] = fixture.tensors.token_ids.shape;
const d = fixture.tensors.activations.shape[2];
const table = tableFromWindows({
  activations: f32(fixture, 'activations'),
  tokenIds: i32(fixture, 'token_ids'),
  docIndex: i32(fixture, 'doc_index'),
  rows,
  seqLen,
  d,
  specialIds: fixture.meta.special_token_ids,
});
const sae = createPlainReluSae({
  dIn: d,
  dSae: fixture.tensors.W_enc.shape[1],
  wEnc: f32(fixture, 'W_enc'),
  bEnc: f32(fixture, 'b_enc'),
  wDec: f32(fixture, 'W_dec'),
  bDec: f32(fixture, 'b_dec'),
});
const splicer = createTinySplicer({
  vocab: fixture.tensors.W_U.shape[1],
  d,
  E: f32(fixture, 'E'),
  P: f32(fixture, 'P'),
  W_U: f32(fixture, 'W_U'),
  b_U: f32(fixture, 'b_U'),
});
const batchPrompts: number = fixture.meta.batch_prompts;
const spliceOptions: SpliceOptions = {
  batchPrompts,
  maxBatches: null,
  excludeSpecialTokensFromReconstruction: true,
  zeroAblateSpecialTokens: true,
};

async function coreOf(model: SaeForEval) {
  const acc = new CoreMetricsAccumulator(d, model.dSae);
  await runTokenPass(table, model, { batchPrompts, maxBatches: null }, [acc], defaultStageContext());
  return acc.finish();
}

test('the fake splicer reproduces the fixture model (its residuals are the fixture activations)', async () => {
  const resid = await splicer.residuals(i32(fixture, 'token_ids'), rows, seqLen);
  const expected = f32(fixture, 'activations');
  resid.forEach((v, i) => assertClose(v, expected[i], 1e-4, `resid[${i}]`));
});

test('core metrics equal SAELens 6.18 numbers on the fixture SAE (within 1e-4)', async () => {
  const { metrics, featureDensity, consistentActivation } = await coreOf(sae);
  const ref = fixture.expected.saelens_sparsity_variance;
  for (const key of ['l2_norm_in', 'l2_norm_out', 'l2_ratio', 'relative_reconstruction_bias', 'l0', 'l1', 'explained_variance_legacy', 'cossim'] as const) {
    assertClose(metrics[key], ref[key], 1e-4, key);
  }
  const tokensPerBatch = metrics.tokens / (rows / batchPrompts);
  // SAELens divides its per-token `mse` by the batch's token count (equal batches here).
  assertClose(metrics.mse / tokensPerBatch, ref.mse, 1e-4, 'mse (SAELens scaling)');
  const np = fixture.expected.numpy;
  assertClose(metrics.mse, np.mse, 1e-4, 'mse');
  assertClose(metrics.explained_variance, np.explained_variance, 1e-4, 'explained_variance (pooled)');
  assertClose(metrics.explained_variance_centered, np.explained_variance_centered, 1e-4, 'explained_variance_centered');
  assert.equal(metrics.tokens, np.tokens);
  for (const [key, value] of Object.entries(fixture.expected.saebench_misc)) {
    assertClose(metrics[key as keyof typeof metrics] as number, value as number, 1e-9, key);
  }
  const refDensity: number[] = fixture.expected.saelens_feature.feature_density;
  refDensity.forEach((p, i) => assertClose(featureDensity[i], p, 1e-6, `density[${i}]`));
  const refCah: (number | null)[] = fixture.expected.saelens_feature.consistent_activation_heuristic;
  refCah.forEach((c, i) => (c === null ? assert.ok(Number.isNaN(consistentActivation[i])) : assertClose(consistentActivation[i], c, 1e-5, `cah[${i}]`)));
});

test('KL and CE scores equal SAELens 6.18 numbers through the splice interface (within 1e-4)', async () => {
  const { metrics } = await computeSpliceScores(table, sae, splicer, spliceOptions, defaultStageContext());
  const ref = fixture.expected.saelens_reconstruction;
  for (const key of ['kl_div_score', 'kl_div_with_ablation', 'kl_div_with_sae', 'ce_loss_score', 'ce_loss_with_ablation', 'ce_loss_with_sae', 'ce_loss_without_sae'] as const) {
    assertClose(metrics[key], ref[key], 1e-4, key);
  }
});

/** An SAE stand-in that outputs x itself or zeros as its reconstruction. */
function constantSae(kind: 'identity' | 'zeros'): SaeForEval {
  return {
    dIn: d,
    dSae: 4,
    encode: async (_x, n) => new Float32Array(n * 4),
    forward: async (x, n) => ({ latents: new Float32Array(n * 4), reconstruction: kind === 'identity' ? x.slice() : new Float32Array(x.length) }),
    decoderRows: () => new Float32Array(4 * d),
  };
}

test('a perfect reconstruction gives explained variance 1, KL score 1 and CE score 1', async () => {
  const { metrics } = await coreOf(constantSae('identity'));
  assert.equal(metrics.explained_variance, 1);
  assert.equal(metrics.explained_variance_legacy, 1);
  assert.equal(metrics.mse, 0);
  const splice = await computeSpliceScores(table, constantSae('identity'), splicer, spliceOptions, defaultStageContext());
  assertClose(splice.metrics.kl_div_score, 1, 1e-9, 'kl_div_score');
  assertClose(splice.metrics.ce_loss_score, 1, 1e-9, 'ce_loss_score');
  assertClose(splice.metrics.kl_div_with_sae, 0, 1e-7, 'kl_div_with_sae');
});

test('a zero reconstruction gives KL score 0 and CE score 0', async () => {
  // Replace every position, specials included, so the SAE run is exactly the ablation run.
  const options = { ...spliceOptions, excludeSpecialTokensFromReconstruction: false };
  const { metrics } = await computeSpliceScores(table, constantSae('zeros'), splicer, options, defaultStageContext());
  assert.equal(Math.abs(metrics.kl_div_score), 0);
  assert.equal(Math.abs(metrics.ce_loss_score), 0);
  const core = await coreOf(constantSae('zeros'));
  assert.equal(core.metrics.l0, 0);
  assert.equal(core.metrics.frac_alive, 0);
});

test('float16 tables are decoded exactly', async () => {
  const halves = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x0000, 0x3555]);
  const half = { ...table, dModel: 2, dtype: 'float16' as const, count: 3, values: halves };
  assert.deepEqual(Array.from(activationRows(half, 0, 3)), [1, -2, 2 ** -24, 65504, 0, Math.fround(0.333251953125)]);
});

test('cancellation stops the pass between batches', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await assert.rejects(
    runTokenPass(table, sae, { batchPrompts, maxBatches: null }, [], defaultStageContext({ signal: controller.signal })),
    /stop/,
  );
});
