/**
 * A tokenizer that does not fit the model is refused at validation, naming tokenize.tokenizer
 * and model.source (issue 15 §5); one whose ids fit but which is not the model's own needs
 * tokenize.allowForeignTokenizer. Real tokenizers: the npm Gemma-2 (256,000 ids) and Gemma-3
 * (262,144 + 1) ones and the 259-id fixture models.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGISTRY_MODEL_FACTS } from '../../../schemas/model.js';
import { SpecError, parseSpecText } from '../../../lib/spec/load-spec.js';
import { presetSpec, specFromFile } from '../../../lib/spec/resolve-spec.js';
import { npmTokenizerFolder, readTokenizerFacts, tokenizerFactsFromText } from '../../../lib/spec/tokenizer-facts.js';
import { checkSpecTokenizer, checkTokenizerFitsModel, checkTokenizerForModel, folderVocabSize, type TokenizerFitInput } from '../../../lib/spec/tokenizer-fit.js';
import { fixturePath } from '../../helpers/paths.js';
import { realModelDir, realModels } from '../../helpers/real-model.js';

const root = await mkdtemp(join(tmpdir(), 'tsae-fit-'));
after(() => rm(root, { recursive: true, force: true }));
const FIXTURE_MODEL = fixturePath('model', 'gemma2');

/** Asserts a SpecError (BAD_CONFIG, not retryable) on tokenize.tokenizer whose message matches. */
function refused(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof SpecError, String(error));
    assert.equal(error.code, 'BAD_CONFIG');
    assert.equal(error.retryable, false);
    assert.deepEqual(error.issues.map((i) => i.field), ['tokenize.tokenizer']);
    assert.match(error.message, /model\.source/);
    assert.match(error.message, pattern);
    return true;
  };
}

/** A tokenizer.json with `size` BPE ids and the given added tokens. */
function tokenizerJson(size: number, added: { id: number; content: string }[] = [], salt = ''): string {
  const vocab = Object.fromEntries(Array.from({ length: size }, (_, i) => [`${salt}t${i}`, i]));
  return JSON.stringify({ version: '1.0', added_tokens: added.map((t) => ({ ...t, special: true })), model: { type: 'BPE', vocab, merges: [] } });
}

function fitInput(over: Partial<TokenizerFitInput>): TokenizerFitInput {
  const own = tokenizerFactsFromText(tokenizerJson(100), '/model/tokenizer.json');
  return { tokenizer: '/tok', tokenizerFacts: own, modelSource: '/model', modelVocabSize: 100, ownTokenizer: own, allowForeignTokenizer: false, ...over };
}

test('pure rule: too many ids is refused whatever the override; foreign ids need the override; unknown identity waits', () => {
  const big = tokenizerFactsFromText(tokenizerJson(120), '/tok/tokenizer.json');
  for (const allowForeignTokenizer of [false, true]) {
    assert.throws(() => checkTokenizerFitsModel(fitInput({ tokenizerFacts: big, allowForeignTokenizer })), refused(/ids up to 119 \(a vocabulary of 120\), but model\.source '\/model' has embeddings for only 100 ids/));
  }
  const foreign = tokenizerFactsFromText(tokenizerJson(90, [], 'other'), '/tok/tokenizer.json');
  assert.throws(() => checkTokenizerFitsModel(fitInput({ tokenizerFacts: foreign })), refused(/is not the tokenizer of model\.source '\/model'.*tokenize\.allowForeignTokenizer: true/));
  assert.deepEqual(checkTokenizerFitsModel(fitInput({ tokenizerFacts: foreign, allowForeignTokenizer: true })), { own: false, idsAboveModel: [] });
  assert.deepEqual(checkTokenizerFitsModel(fitInput({ tokenizerFacts: foreign, ownTokenizer: null })), { own: null, idsAboveModel: [] });
  assert.deepEqual(checkTokenizerFitsModel(fitInput({ tokenizer: 'model', ownTokenizer: null })), { own: true, idsAboveModel: [] });
  assert.throws(() => checkTokenizerFitsModel(fitInput({ tokenizer: 'model', tokenizerFacts: big })), refused(/'model' maps text to ids up to 119/));
});

test('identity is the id table: a reformatted copy is the model own tokenizer; added tokens past the model are reported', () => {
  const text = tokenizerJson(100, [{ id: 100, content: '<image_soft_token>' }]);
  const pretty = JSON.stringify(JSON.parse(text), null, 2);
  const own = tokenizerFactsFromText(text, 'a');
  const copy = tokenizerFactsFromText(pretty, 'b');
  assert.notEqual(own.sha256, copy.sha256);
  assert.equal(own.vocabDigest, copy.vocabDigest);
  assert.deepEqual([own.baseIdCount, own.idCount], [100, 101]);
  assert.deepEqual(checkTokenizerFitsModel(fitInput({ tokenizerFacts: copy, ownTokenizer: own })), { own: true, idsAboveModel: [{ id: 100, content: '<image_soft_token>' }] });
  const renamed = tokenizerFactsFromText(tokenizerJson(100, [{ id: 100, content: '<other>' }]), 'c');
  assert.notEqual(renamed.vocabDigest, own.vocabDigest, 'an added token with another text is another tokenizer');
  const unigram = tokenizerFactsFromText(JSON.stringify({ model: { type: 'Unigram', vocab: [['<unk>', 0], ['a', -1], ['b', -2]] } }), 'u');
  assert.deepEqual([unigram.baseIdCount, unigram.idCount], [3, 3]);
});

test('validation: gemma2 (256,000 ids) with a model of 259 or 49,152 rows is refused naming both fields', () => {
  assert.throws(
    () => presetSpec('smoke', { 'tokenize.tokenizer': 'gemma2' }),
    refused(new RegExp(`preset smoke: tokenize\\.tokenizer: 'gemma2' maps text to ids up to 255,999 \\(a vocabulary of 256,000\\), but model\\.source '${FIXTURE_MODEL}' has embeddings for only 259 ids`)),
  );
  assert.throws(() => presetSpec('demo', { 'model.source': 'smollm2-135m', 'tokenize.tokenizer': 'gemma2' }), refused(/model\.source 'smollm2-135m' has embeddings for only 49,152 ids/));
  assert.throws(() => presetSpec('smoke', { 'tokenize.tokenizer': 'gemma3' }), refused(/'gemma3' maps text to ids up to 262,143 \(a vocabulary of 262,144\)/));
});

test('validation: the Gemma-2 tokenizer with Gemma 3 fits but is foreign: refused unless allowForeignTokenizer', () => {
  assert.throws(() => presetSpec('demo', { 'tokenize.tokenizer': 'gemma2' }), refused(/'gemma2' is not the tokenizer of model\.source 'gemma3-270m'.*fit the model's 262,144 embeddings/));
  const spec = presetSpec('demo', { 'tokenize.tokenizer': 'gemma2', 'tokenize.allowForeignTokenizer': true });
  assert.deepEqual(checkSpecTokenizer(spec), { own: false, idsAboveModel: [] });
  // Gemma 3's own tokenizer has one id past the text model's rows: allowed, and reported.
  assert.deepEqual(checkSpecTokenizer(presetSpec('demo', { 'tokenize.tokenizer': 'gemma3' })), { own: true, idsAboveModel: [{ id: 262_144, content: '<image_soft_token>' }] });
});

test('validation: what cannot be known before preparation waits (model tokenizer, GGUF, hub id)', () => {
  assert.equal(checkSpecTokenizer(presetSpec('demo')), null, "'model' is checked after preparation");
  const hub = parseSpecText('name: x\nmodel: {source: google/gemma-2-2b, layer: 1}\ncorpus: {source: demo}\ntokenize: {tokenizer: gemma3}\ntokens: {train: 4096, eval: 512}\nsae: {dSae: 64, variants: [{variant: topk}]}\ntrain: {batchSize: 512, warmupSteps: 2}\n', 'x.yaml');
  assert.equal(checkSpecTokenizer(hub), null);
  assert.equal(checkSpecTokenizer({ ...hub, model: { ...hub.model, source: '/no/such/model.gguf' } }), null);
});

test('validation from a spec file names the file; a tokenizer folder without tokenizer.json is refused', async () => {
  const dir = await mkdtemp(join(root, 'spec-'));
  const yaml = `name: fit\nmodel: {source: ${FIXTURE_MODEL}, layer: 1}\ncorpus: {source: demo}\ntokenize: {tokenizer: gemma3}\ntokens: {train: 4096, eval: 512}\nsae: {dSae: 64, variants: [{variant: topk}]}\ntrain: {batchSize: 512, warmupSteps: 2}\n`;
  await writeFile(join(dir, 'fit.yaml'), yaml);
  await assert.rejects(specFromFile(join(dir, 'fit.yaml')), refused(new RegExp(`${join(dir, 'fit.yaml')}: tokenize\\.tokenizer: 'gemma3' maps text to ids up to 262,143`)));
  await writeFile(join(dir, 'empty.yaml'), yaml.replace('tokenizer: gemma3', `tokenizer: ${dir}`));
  await assert.rejects(specFromFile(join(dir, 'empty.yaml')), (e: unknown) => e instanceof SpecError && /tokenize\.tokenizer: tokenizer folder .* has no tokenizer\.json/.test(e.message));
});

test('validation: a Hugging Face checkpoint folder gives its vocabulary from config.json; its broken tokenizer.json is a model.source problem', async () => {
  const dir = await mkdtemp(join(root, 'hf-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'gemma3', text_config: { vocab_size: 32_000 } }));
  const spec = presetSpec('smoke');
  const withModel = (tokenizer: string) => ({ ...spec, model: { ...spec.model, source: dir }, tokenize: { ...spec.tokenize, tokenizer } });
  assert.equal(folderVocabSize(dir), 32_000);
  assert.throws(() => checkSpecTokenizer(withModel('gemma2')), refused(/has embeddings for only 32,000 ids/));
  await writeFile(join(dir, 'tokenizer.json'), '{"model": ');
  assert.throws(() => checkSpecTokenizer(withModel('gemma2')), (e: unknown) => e instanceof SpecError && e.issues[0].field === 'model.source' && /tokenizer\.json is not valid JSON/.test(e.message));
});

test('run time (model prepared): checkTokenizerForModel reads both tokenizer.json files and applies the rule', async () => {
  const input = { modelSource: 'model.gguf', modelDir: FIXTURE_MODEL, modelVocabSize: folderVocabSize(FIXTURE_MODEL)! };
  assert.equal(input.modelVocabSize, 259);
  await assert.rejects(checkTokenizerForModel({ ...input, tokenize: { tokenizer: 'gemma2', allowForeignTokenizer: true } }), refused(/model\.source 'model\.gguf' has embeddings for only 259 ids/));
  assert.deepEqual(await checkTokenizerForModel({ ...input, tokenize: { tokenizer: 'model', allowForeignTokenizer: false } }), { own: true, idsAboveModel: [] });
  // Another folder with the same tokenizer is the model's own; change one piece and it is foreign.
  const same = await mkdtemp(join(root, 'tok-'));
  await cp(join(FIXTURE_MODEL, 'tokenizer.json'), join(same, 'tokenizer.json'));
  assert.equal((await checkTokenizerForModel({ ...input, tokenize: { tokenizer: same, allowForeignTokenizer: false } })).own, true);
  const other = await mkdtemp(join(root, 'tok-'));
  const json = JSON.parse(await readFile(join(FIXTURE_MODEL, 'tokenizer.json'), 'utf8'));
  const [piece, id] = Object.entries(json.model.vocab as Record<string, number>).at(-1)!;
  delete json.model.vocab[piece];
  json.model.vocab[`${piece}x`] = id;
  await writeFile(join(other, 'tokenizer.json'), JSON.stringify(json));
  await assert.rejects(checkTokenizerForModel({ ...input, tokenize: { tokenizer: other, allowForeignTokenizer: false } }), refused(/is not the tokenizer of model\.source 'model\.gguf'/));
});

test('registry facts match the prepared real models (test/helpers/real-model.ts) and the npm tokenizers', async () => {
  assert.equal((await readTokenizerFacts(npmTokenizerFolder('gemma3'))).baseIdCount, REGISTRY_MODEL_FACTS['gemma3-270m'].vocabSize);
  const prepared = realModels();
  assert.ok(prepared.length > 0, 'no real model configured (TSAE_TEST_MODELS)');
  for (const name of prepared) {
    const dir = realModelDir(name);
    const facts = REGISTRY_MODEL_FACTS[name];
    assert.equal(folderVocabSize(dir), facts.vocabSize, `${name}: vocabulary`);
    if (facts.tokenizer) assert.equal((await readTokenizerFacts(dir)).sha256, (await readTokenizerFacts(npmTokenizerFolder(facts.tokenizer))).sha256, `${name}: tokenizer`);
  }
});
