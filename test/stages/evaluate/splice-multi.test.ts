import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EvalOptions, SpliceEvalOutput } from '../../../schemas/eval.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import type { SaeForEval, Splicer } from '../../../stages/evaluate/interfaces.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { evaluateSplice } from '../../../stages/evaluate/splice-eval.js';
import { spliceSaes, type SpliceOptions, type SpliceSums } from '../../../stages/evaluate/splice-multi.js';
import { computeSpliceScores } from '../../../stages/evaluate/splice-scores.js';
import { spliceIntervals, spliceMetrics } from '../../../stages/evaluate/splice-statistics.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';
import { createTinySplicer, tableFromWindows } from './helpers/tiny-model.js';

const fixture = loadEvalFixture('splice_multi');
const [rows, seqLen] = fixture.tensors.token_ids.shape;
const d = fixture.tensors.activations.shape[2];
const table = tableFromWindows({ activations: f32(fixture, 'activations'), tokenIds: i32(fixture, 'token_ids'), rows, seqLen, d, specialIds: fixture.meta.special_token_ids });
const saeAt = (s: number) =>
  createPlainReluSae({ dIn: d, dSae: fixture.tensors[`sae${s}_W_enc`].shape[1], wEnc: f32(fixture, `sae${s}_W_enc`), bEnc: f32(fixture, `sae${s}_b_enc`), wDec: f32(fixture, `sae${s}_W_dec`), bDec: f32(fixture, `sae${s}_b_dec`) });
const saes = [
  { label: 'good', sae: saeAt(0) },
  { label: 'worse', sae: saeAt(1) },
];
const tiny = () => createTinySplicer({ vocab: fixture.tensors.W_U.shape[1], d, E: f32(fixture, 'E'), P: f32(fixture, 'P'), W_U: f32(fixture, 'W_U'), b_U: f32(fixture, 'b_U') });
const options: SpliceOptions = { batchPrompts: fixture.expected.batch_prompts, maxBatches: null, excludeSpecialTokensFromReconstruction: true, zeroAblateSpecialTokens: true };

/** Counts spliceLosses calls and the replacements each got. */
function counting(inner: Splicer): Splicer & { replacementCounts: number[] } {
  const out = {
    replacementCounts: [] as number[],
    residuals: inner.residuals.bind(inner),
    spliceLosses: (args: Parameters<Splicer['spliceLosses']>[0]) => {
      out.replacementCounts.push(args.replacements.length);
      return inner.spliceLosses(args);
    },
  };
  return out;
}

test('multi-SAE splice: per-window sums, scores and bootstrap intervals equal the NumPy reference', async () => {
  const splicer = counting(tiny());
  const { sums } = await spliceSaes({ table, splicer, saes }, options, null, defaultStageContext());
  // One call per batch (all windows have one length), replacements = ablation + each SAE.
  assert.deepEqual(splicer.replacementCounts, [3, 3, 3]);
  const want: number[][] = fixture.expected.window_sums;
  assert.equal(sums.windows, want.length);
  want.flat().forEach((v, i) => assertClose(sums.values[i], v, 1e-4 * Math.max(1, Math.abs(v)), `window sum ${i}`));
  const indices = i32(fixture, 'bootstrap_indices');
  saes.forEach((_, s) => {
    const ref = fixture.expected.saes[s];
    const metrics = spliceMetrics(sums, s);
    for (const [key, value] of Object.entries(ref.metrics as Record<string, number>)) assertClose(metrics[key as keyof typeof metrics], value, 1e-5, `sae ${s} ${key}`);
    const intervals = spliceIntervals(sums, s, indices, fixture.meta.level);
    for (const [key, want] of Object.entries(ref.intervals as Record<string, { estimate: number; std_error: number; low: number; high: number }>)) {
      const got = intervals[key as keyof typeof intervals];
      for (const field of ['estimate', 'std_error', 'low', 'high'] as const) assertClose(got[field]!, want[field], 1e-5, `sae ${s} ${key}.${field}`);
    }
  });
});

test('splicing SAEs together gives each the numbers it gets alone, and sub-batching changes nothing', async () => {
  const together = await spliceSaes({ table, splicer: tiny(), saes }, options, null, defaultStageContext());
  const split = counting(tiny());
  const small = await spliceSaes({ table, splicer: split, saes }, { ...options, maxTokensPerCall: 4 * seqLen * 2 }, null, defaultStageContext());
  assert.ok(split.replacementCounts.length > 3, `sub-batches: ${split.replacementCounts.length} calls`);
  for (const [s, { sae }] of saes.entries()) {
    const alone = await computeSpliceScores(table, sae, tiny(), options, defaultStageContext());
    const withOthers = spliceMetrics(together.sums, s);
    for (const key of ['kl_div_score', 'ce_loss_score', 'kl_div_with_sae', 'ce_loss_with_ablation'] as const) assertClose(withOthers[key], alone.metrics[key], 1e-9, `${key} of SAE ${s}`);
    assert.deepEqual(spliceMetrics(small.sums, s), withOthers);
  }
});

test('an interrupted splice resumes from its per-batch checkpoint and ends with the same sums', async () => {
  let saved: SpliceSums | null = null;
  const checkpoint = { load: async () => (saved ? structuredClone(saved) : null), save: async (s: SpliceSums) => void (saved = structuredClone(s)) };
  const controller = new AbortController();
  const ctx = defaultStageContext({ signal: controller.signal, onProgress: (p) => p.done === options.batchPrompts && controller.abort(new Error('worker died')) });
  await assert.rejects(spliceSaes({ table, splicer: tiny(), saes }, options, checkpoint, ctx), /worker died/);
  assert.equal(saved!.batchesDone, 1);
  const resumed = counting(tiny());
  const { sums } = await spliceSaes({ table, splicer: resumed, saes }, options, checkpoint, defaultStageContext());
  assert.equal(resumed.replacementCounts.length, 2, 'only the two remaining batches run');
  const fresh = await spliceSaes({ table, splicer: tiny(), saes }, options, null, defaultStageContext());
  assert.deepEqual(sums, fresh.sums);
});

test('evaluateSplice writes one splice.json for all SAEs with paired bootstrap intervals, and returns it on a rerun', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'splice-'));
  const config = EvalOptions.parse({ core: { batch_size_prompts: options.batchPrompts, bootstrap_resamples: 200 } }).core;
  const input = { modelDir: 'unused', layer: 1, saes: saes.map((s) => ({ label: s.label, dir: 'unused' })), activationFiles: [], options: config, inputKey: 'k' };
  const splicer = counting(tiny());
  const first = await evaluateSplice(input, dir, defaultStageContext(), { table, splicer, saes });
  const out = SpliceEvalOutput.parse(JSON.parse(await readFile(join(dir, 'splice.json'), 'utf8')));
  assert.deepEqual(out.sae_labels, ['good', 'worse']);
  assert.equal(out.token_stats.prompts, rows);
  for (const label of out.sae_labels) {
    const entry = out.saes[label];
    const kl = entry.eval_result_uncertainty.intervals.kl_div_score;
    assert.equal(kl.estimate, entry.model_behavior_preservation.kl_div_score);
    assert.ok(kl.low! < kl.estimate! && kl.estimate! < kl.high!);
  }
  assert.ok(out.saes.good.model_behavior_preservation.kl_div_score! > out.saes.worse.model_behavior_preservation.kl_div_score!);
  const calls = splicer.replacementCounts.length;
  const again = await evaluateSplice(input, dir, defaultStageContext(), { table, splicer, saes });
  assert.deepEqual([again.resumed, splicer.replacementCounts.length], [true, calls]);
  assert.equal(JSON.stringify(again.output), JSON.stringify(first.output));
  await assert.rejects(evaluateSplice({ ...input, saes: [input.saes[0], input.saes[0]] }, join(dir, 'dup'), defaultStageContext(), { table, splicer, saes }), /distinct/);
});

test('an SAE that reconstructs perfectly scores 1, zeros score 0, beside each other in one splice', async () => {
  const identity: SaeForEval = { dIn: d, dSae: 1, encode: async (_x, n) => new Float32Array(n), forward: async (x, n) => ({ latents: new Float32Array(n), reconstruction: x.slice() }), decoderRows: () => new Float32Array(d) };
  const zeros: SaeForEval = { ...identity, forward: async (x, n) => ({ latents: new Float32Array(n), reconstruction: new Float32Array(x.length) }) };
  const { sums } = await spliceSaes({ table, splicer: tiny(), saes: [{ label: 'id', sae: identity }, { label: 'zero', sae: zeros }] }, { ...options, excludeSpecialTokensFromReconstruction: false }, null, defaultStageContext());
  assertClose(spliceMetrics(sums, 0).kl_div_score, 1, 1e-9, 'identity KL score');
  assertClose(spliceMetrics(sums, 0).ce_loss_score, 1, 1e-9, 'identity CE score');
  assertClose(spliceMetrics(sums, 1).kl_div_score, 0, 1e-12, 'zeros KL score');
});

test('a splice over fewer windows than requested says so in deviations, and merged core carries it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'splice-short-'));
  const config = EvalOptions.parse({ core: { batch_size_prompts: 4, n_eval_reconstruction_batches: 10, bootstrap_resamples: 0 } }).core;
  const input = { modelDir: 'unused', layer: 1, saes: [{ label: 'good', dir: 'unused' }], activationFiles: [], options: config };
  const { output } = await evaluateSplice(input, dir, defaultStageContext(), { table, splicer: tiny(), saes: [saes[0]] });
  assert.deepEqual(output.deviations, ['fewer_batches_than_requested: 3 of 10 batches (10 prompts); the eval set holds fewer windows than n_eval_reconstruction_batches x batch_size_prompts']);
  assert.deepEqual(output.saes.good.eval_result_uncertainty.intervals, {}, 'no resamples, no intervals');
});
