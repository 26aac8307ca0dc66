import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AbsorptionEvalOutput, CoreEvalOutput, EvalOptions, SparseProbingEvalOutput, TemporalEvalOutput } from '../../../schemas/eval.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { alphaWords, createIclPrompt, firstLetterIndex } from '../../../stages/evaluate/absorption/words.js';
import { promptResiduals } from '../../../stages/evaluate/absorption/word-activations.js';
import { evaluateSae } from '../../../stages/evaluate/evaluate-sae.js';
import { evaluateSplice, mergeSpliceIntoCore } from '../../../stages/evaluate/splice-eval.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { createRng } from '../../../stages/evaluate/random.js';
import { readVocabPieces, toEvalTokenizer } from '../../../stages/evaluate/tokenizer-adapter.js';
import type { TextTokenizer } from '../../../stages/tokenize/load-tokenizer.js';
import { collectRunMetrics, writeRunMetrics } from '../../../stages/evaluate/run-metrics.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';
import { createHashSplicer, createWordTokenizer } from './helpers/fake-lm.js';
import { createTinySplicer, tableFromWindows } from './helpers/tiny-model.js';

const fixture = loadEvalFixture('core');
const [rows, seqLen] = fixture.tensors.token_ids.shape;
const d = fixture.tensors.activations.shape[2];
const table = tableFromWindows({
  activations: f32(fixture, 'activations'), tokenIds: i32(fixture, 'token_ids'), docIndex: i32(fixture, 'doc_index'),
  rows, seqLen, d, specialIds: fixture.meta.special_token_ids,
});
const sae = createPlainReluSae({ dIn: d, dSae: fixture.tensors.W_enc.shape[1], wEnc: f32(fixture, 'W_enc'), bEnc: f32(fixture, 'b_enc'), wDec: f32(fixture, 'W_dec'), bDec: f32(fixture, 'b_dec') });
const tinySplicer = () => createTinySplicer({ vocab: fixture.tensors.W_U.shape[1], d, E: f32(fixture, 'E'), P: f32(fixture, 'P'), W_U: f32(fixture, 'W_U'), b_U: f32(fixture, 'b_U') });
const options = EvalOptions.parse({ core: { batch_size_prompts: fixture.meta.batch_prompts }, temporal: { min_clusters: 2, max_clusters: 5, cluster_selection: 'silhouette' } });

const WORDS = ['apple', 'avocado', 'banana', 'berry', 'cherry', 'citrus', 'hammer', 'hatchet', 'saw', 'screw', 'wrench', 'drill'].flatMap((w) => [` ${w}`, w]);
const FRUITS = new Set(['apple', 'avocado', 'banana', 'berry', 'cherry', 'citrus']);

test('core and temporal families write SAEBench-shaped JSON and resume without recomputing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eval-'));
  const deps = { label: 'fixture', sae, table };
  const core = await evaluateSae('core', options, deps, dir, defaultStageContext());
  assert.equal(core.resumed, false);
  const parsed = CoreEvalOutput.parse(JSON.parse(await readFile(join(dir, 'core.json'), 'utf8')));
  assertClose(parsed.eval_result_metrics.sparsity.l0!, fixture.expected.saelens_sparsity_variance.l0, 1e-4, 'l0');
  // The per-SAE core never splices: KL / CE come from the run-level splice eval.
  assert.equal(parsed.eval_result_metrics.model_behavior_preservation, null);
  assert.match(parsed.status ?? '', /splice\.json/);
  assert.ok(parsed.eval_result_uncertainty.intervals.explained_variance.low! <= parsed.eval_result_metrics.reconstruction_quality.explained_variance!);
  const stats = JSON.parse(await readFile(join(dir, 'core-feature-stats.json'), 'utf8'));
  assert.equal(stats.feature_density.length, sae.dSae);
  const splicer = tinySplicer();
  const spliceInput = { modelDir: '', layer: 0, saes: [{ label: 'fixture', dir: '' }], activationFiles: [], options: options.core };
  const splice = await evaluateSplice(spliceInput, dir, defaultStageContext(), { table, splicer, saes: [{ label: 'fixture', sae }] });
  const merged = CoreEvalOutput.parse(mergeSpliceIntoCore(parsed, splice.output));
  const ref = fixture.expected.saelens_reconstruction;
  assertClose(merged.eval_result_metrics.model_behavior_preservation!.kl_div_score!, ref.kl_div_score, 1e-4, 'kl_div_score');
  assertClose(merged.eval_result_metrics.model_performance_preservation!.ce_loss_score!, ref.ce_loss_score, 1e-4, 'ce_loss_score');
  assert.equal(merged.status, undefined);
  assert.ok(merged.eval_result_uncertainty.intervals.kl_div_score && merged.eval_result_uncertainty.intervals.explained_variance);
  const calls = splicer.calls;
  const again = await evaluateSae('core', options, deps, dir, defaultStageContext());
  const spliceAgain = await evaluateSplice(spliceInput, dir, defaultStageContext(), { table, splicer, saes: [{ label: 'fixture', sae }] });
  assert.deepEqual([again.resumed, spliceAgain.resumed, splicer.calls], [true, true, calls]);

  const temporal = await evaluateSae('temporal', options, deps, dir, defaultStageContext());
  const t = TemporalEvalOutput.parse(temporal.output);
  assertClose(t.eval_result_metrics.temporal.temporal_instability!, fixture.expected.temporal.temporal_instability, 1e-5, 'temporal_instability');
  assert.ok(t.analysis && t.analysis.nClusters >= 2 && t.analysis.nClusters <= 5);
  assert.equal(t.analysis.features.length, t.analysis.activity.length);
  assert.equal((await stat(join(dir, 'temporal-activity.bin'))).size, sae.dSae * t.analysis.positions.length * 4);

  const noSplice = await evaluateSae('core', { ...options, core: { ...options.core, compute_splice: false } }, { label: 'x', sae, table }, join(dir, 'no-splice'), defaultStageContext());
  const c = CoreEvalOutput.parse(noSplice.output);
  assert.equal(c.eval_result_metrics.model_behavior_preservation, null);
  assert.match(c.status ?? '', /compute_splice is false/);

  const metrics = await collectRunMetrics({ fixture: dir, other: join(dir, 'no-splice') });
  assert.ok(metrics.fixture.core && metrics.fixture.temporal && !metrics.fixture.absorption);
  const path = await writeRunMetrics(dir, metrics);
  const combined = JSON.parse(await readFile(path, 'utf8'));
  assert.deepEqual(Object.keys(combined.fixture), ['core', 'absorption', 'sparse_probing', 'temporal']);
  assert.equal(combined.other.core.sae_label, 'x');
});

test('absorption through a tokenizer and model: tiny vocabularies give "not enough valid letters" under SAEBench rules', async () => {
  const tokenizer = createWordTokenizer(WORDS);
  const splicer = createHashSplicer(16, tokenizer.vocab().length);
  const small = createPlainReluSae(randomSaeWeights(16, 32, 4));
  const dir = await mkdtemp(join(tmpdir(), 'eval-abs-'));
  const opts = EvalOptions.parse({ absorption: { max_icl_examples: 3, llm_batch_size: 5, allow_fewer_letters: false } });
  const result = await evaluateSae('absorption', opts, { label: 'tiny', sae: small, tokenizer, splicer }, dir, defaultStageContext());
  const out = AbsorptionEvalOutput.parse(result.output);
  assert.equal(out.status, 'not_enough_valid_letters');
  assert.equal(out.eval_result_metrics.mean, null);
  assert.equal(out.eval_result_metrics.words.train + out.eval_result_metrics.words.test, alphaWords(tokenizer.vocab()).length);
  assert.deepEqual(out.words_per_letter.a, { train: 3, test: 1 }, 'four a-words split at the 128 : 24 ratio, rounded');
  assert.equal(alphaWords(tokenizer.vocab()).length, WORDS.length + 4, 'the template words are alphabetic vocabulary too');
  // A second attempt with the output removed reuses the saved word residuals: no model pass.
  await rm(join(dir, 'absorption.json'));
  const calls = splicer.residualCalls;
  await evaluateSae('absorption', opts, { label: 'tiny', sae: small, tokenizer, splicer }, dir, defaultStageContext());
  assert.equal(splicer.residualCalls, calls);
});

test('prompt residuals are read at the word token, whatever the prompt length', async () => {
  const tokenizer = createWordTokenizer(WORDS);
  const splicer = createHashSplicer(8, tokenizer.vocab().length);
  const rng = createRng(2);
  const prompts = [' apple', 'saw', ' hatchet'].map((w, i) => createIclPrompt(w, WORDS, { template: '{word} has the first letter:', maxIclExamples: i + 1 }, rng));
  assert.ok(prompts[0].startsWith('\n') && prompts[0].endsWith(' apple has the first letter:'));
  const acts = await promptResiduals(prompts, { tokenizer, splicer, dIn: 8 }, { tokenPosition: -6, batchSize: 2, label: 'test' }, defaultStageContext());
  for (const [i, p] of prompts.entries()) {
    const ids = tokenizer.encode(p);
    const alone = await splicer.residuals(Int32Array.from(ids), 1, ids.length);
    const t = ids.length - 6;
    assert.equal(tokenizer.decode([ids[t]]).trim(), [' apple', 'saw', ' hatchet'][i].trim());
    for (let j = 0; j < 8; j++) assertClose(acts[i * 8 + j], alone[t * 8 + j], 1e-6, `prompt ${i} dim ${j}`);
  }
  assert.equal(firstLetterIndex(' Hammer'), 7);
});

test('sparse probing from labelled texts: SAEBench-shaped output, per-task checkpoints resume', async () => {
  const tokenizer = createWordTokenizer(WORDS);
  const splicer = createHashSplicer(16, tokenizer.vocab().length);
  const small = createPlainReluSae(randomSaeWeights(16, 48, 5));
  const rng = createRng(4);
  const examples = Array.from({ length: 160 }, (_, i) => {
    const fruit = i % 2 === 0;
    const pool = WORDS.filter((w) => FRUITS.has(w.trim()) === fruit);
    const text = Array.from({ length: 6 }, () => pool[rng.int(pool.length)]).join(' ');
    return [
      { text, label: fruit ? 'fruit' : 'tool', task: 'kind' },
      { text, label: /^ ?[a-h]/.test(text) ? 'early' : 'late', task: 'first-word' },
    ];
  }).flat();
  const dir = await mkdtemp(join(tmpdir(), 'eval-probe-'));
  const opts = EvalOptions.parse({ sparse_probing: { probe_train_set_size: 100, probe_test_set_size: 40, llm_batch_size: 16, min_examples_per_class: 10, min_test_texts_per_task: 0 } });
  const deps = { label: 'tiny', sae: small, tokenizer, splicer, probeExamples: examples };
  const result = await evaluateSae('sparse_probing', opts, deps, dir, defaultStageContext());
  const out = SparseProbingEvalOutput.parse(result.output);
  assert.deepEqual(out.eval_result_details.map((r) => r.dataset_name), ['first-word', 'kind']);
  assert.ok((out.eval_result_metrics.llm.llm_test_accuracy ?? 0) > 0.9, 'fruit vs tool is linearly visible in the residual');
  for (const k of [1, 2, 5]) assert.ok(typeof out.eval_result_metrics.sae[`sae_top_${k}_test_accuracy`] === 'number');
  await rm(join(dir, 'sparse_probing.json'));
  const calls = splicer.residualCalls;
  const again = await evaluateSae('sparse_probing', opts, deps, dir, defaultStageContext());
  assert.equal(splicer.residualCalls, calls, 'tasks come from their checkpoints');
  assert.deepEqual(again.output.eval_result_metrics, out.eval_result_metrics);
});

test('a family without what it needs fails fast with a non-retryable config error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eval-bad-'));
  await assert.rejects(evaluateSae('temporal', options, { label: 'x', sae }, dir, defaultStageContext()), (e: { code: string; retryable: boolean; message: string }) => {
    assert.equal(e.code, 'BAD_CONFIG');
    assert.equal(e.retryable, false);
    assert.match(e.message, /temporal.*table/);
    return true;
  });
});

function randomSaeWeights(dIn: number, dSae: number, seed: number) {
  const rng = createRng(seed);
  const wEnc = Float32Array.from({ length: dIn * dSae }, () => rng.normal() / Math.sqrt(dIn));
  const wDec = new Float32Array(dSae * dIn);
  for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) wDec[i * dIn + j] = wEnc[j * dSae + i];
  return { dIn, dSae, wEnc, bEnc: new Float32Array(dSae).fill(-0.1), wDec, bDec: new Float32Array(dIn) };
}

test('the tokenize stage tokenizer adapts: BOS added, word-start markers become spaces', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tok-'));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { vocab: { '<pad>': 0, '<bos>': 1, '▁cat': 2, cat: 3, 'Ġdog': 4 } }, added_tokens: [{ id: 0, content: '<pad>' }] }));
  const { pieces, padId } = await readVocabPieces(dir);
  const text: TextTokenizer = {
    name: 'fake', sha256: '', vocabSize: 5, bosId: 1, eosId: null, addBos: true, specialIds: new Set([0, 1]), fastSplit: false,
    encode: () => Int32Array.from([2, 3]), encodeWhole: () => Int32Array.from([2, 3]), decode: (ids) => Array.from(ids).join(','),
  };
  const t = toEvalTokenizer(text, pieces, padId);
  assert.deepEqual(t.encode('x'), [1, 2, 3]);
  assert.deepEqual(t.vocab(), ['<pad>', '<bos>', ' cat', 'cat', ' dog']);
  assert.deepEqual(alphaWords(t.vocab()), [' cat', 'cat', ' dog']);
  assert.deepEqual([t.padId, [...t.specialIds]], [0, [0, 1]]);
});
