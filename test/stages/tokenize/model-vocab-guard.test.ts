/**
 * The tokenize stage's guard against ids the model has no embedding row for. Gemma 3's
 * tokenizer.json has 262,145 ids (the multimodal "<image_soft_token>" is 262144) and the text
 * model 262,144 rows: a document that contains that string literally used to reach extraction
 * and fail inside the ONNX Gather, where it was retried like an infrastructure fault.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStageContext } from '../../../lib/core/context.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { planCorpusShards } from '../../../stages/corpus/plan-shards.js';
import { loadTokenizer } from '../../../stages/tokenize/load-tokenizer.js';
import { tokenizeShardCounts } from '../../../stages/tokenize/shard-counts.js';
import { tokenizeShard } from '../../../stages/tokenize/tokenize-shard.js';
import { fixturePath } from '../../helpers/paths.js';

const root = await mkdtemp(join(tmpdir(), 'tsae-vocab-'));
after(() => rm(root, { recursive: true, force: true }));
const GEMMA3_TEXT_VOCAB = 262_144;
const config = { contextLength: 16, splits: { train: 1, val: 0, test: 0 } };

async function corpus(lines: string[]): Promise<string> {
  const dir = await mkdtemp(join(root, 'c-'));
  await writeFile(join(dir, 'docs.jsonl'), lines.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  return dir;
}

test('a document that encodes to an id at or above the model vocabulary is skipped as token-out-of-range (skip) or stops the shard (fail)', async () => {
  const tokenizer = await loadTokenizer({ kind: 'gemma3' });
  assert.equal(tokenizer.encode('<image_soft_token>')[0], GEMMA3_TEXT_VOCAB, 'the premise: this literal encodes to id 262144');
  const dir = await corpus(['a plain document', 'an image placeholder <image_soft_token> in text', 'another plain one']);
  const [shard] = await planCorpusShards({ path: dir });
  const guarded = await tokenizeShard({ shard, tokenizer, config, modelVocabSize: GEMMA3_TEXT_VOCAB }, await mkdtemp(join(root, 'o-')), defaultStageContext());
  assert.equal(guarded.documents.tokenized, 2);
  assert.deepEqual(guarded.skips['token-out-of-range'], { count: 1, locations: ['docs.jsonl:2'], truncated: false });
  assert.equal(guarded.tokenizer.modelVocabSize, GEMMA3_TEXT_VOCAB);
  assert.deepEqual(tokenizeShardCounts(guarded).skipsByReason, { 'token-out-of-range': 1 });
  const unguarded = await tokenizeShard({ shard, tokenizer, config }, await mkdtemp(join(root, 'o-')), defaultStageContext());
  assert.equal(unguarded.documents.tokenized, 3, 'without the model vocabulary nothing is checked');
  assert.equal(unguarded.tokenizer.modelVocabSize, null);
  await assert.rejects(
    tokenizeShard({ shard, tokenizer, config, corpus: { badInput: 'fail' }, modelVocabSize: GEMMA3_TEXT_VOCAB }, await mkdtemp(join(root, 'o-')), defaultStageContext()),
    (e: unknown) => e instanceof TsaeError && e.code === 'BAD_INPUT' && !e.retryable && /docs\.jsonl:2: token-out-of-range \(token 262144 "<image_soft_token>" >= model vocabulary 262144\)/.test(e.message),
  );
});

test('a BOS id outside the model vocabulary is a config error naming both fields, before any work', async () => {
  const tokenizer = await loadTokenizer({ kind: 'folder', path: fixturePath('model', 'gemma2') });
  const dir = await corpus(['x']);
  const [shard] = await planCorpusShards({ path: dir });
  await assert.rejects(
    tokenizeShard({ shard, tokenizer, config, modelVocabSize: tokenizer.bosId! }, await mkdtemp(join(root, 'o-')), defaultStageContext()),
    (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG' && !e.retryable && /tokenize\.tokenizer: .*BOS id 2 is outside the model's vocabulary of 2 \(model\.source\)/.test(e.message),
  );
});
