import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenRow } from '../../../schemas/token-shard.js';
import { defaultStageContext, type StageProgress } from '../../../lib/core/context.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { planCorpusShards } from '../../../stages/corpus/plan-shards.js';
import { assignSplit } from '../../../stages/tokenize/assign-split.js';
import { loadTokenizer, type TextTokenizer } from '../../../stages/tokenize/load-tokenizer.js';
import { readTokenShard } from '../../../stages/tokenize/token-shard.js';
import { CHECKPOINT_FILE, SHARD_MANIFEST_FILE, tokenizeShard } from '../../../stages/tokenize/tokenize-shard.js';
import { demoSample, writeZstCorpus } from './sample-corpus.js';

const tokenizer = await loadTokenizer({ kind: 'gemma2' });
const docs = await demoSample(12);
const root = await mkdtemp(join(tmpdir(), 'tsae-tok-'));
after(() => rm(root, { recursive: true, force: true }));
await writeZstCorpus(root, 'good.jsonl.zst', docs);
const [shard] = await planCorpusShards({ path: join(root, 'good.jsonl.zst') });
const config = { rowsPerFile: 40, rowGroupRows: 16, splits: { train: 0.6, val: 0.2, test: 0.2 } };

async function filesOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = (await readFile(join(dir, name))).toString('base64');
  return out;
}

async function rowsOf(dir: string): Promise<TokenRow[]> {
  const rows: TokenRow[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.parquet')).sort()) for await (const r of readTokenShard(join(dir, name))) rows.push(r);
  return rows;
}

test('same input gives byte-identical shards; a finished shard is returned without rework', async () => {
  const a = await mkdtemp(join(root, 'a-'));
  const b = await mkdtemp(join(root, 'b-'));
  const events: StageProgress[] = [];
  const sa = await tokenizeShard({ shard, tokenizer, config }, a, defaultStageContext({ onProgress: (p) => events.push(p) }));
  const sb = await tokenizeShard({ shard, tokenizer, config }, b, defaultStageContext());
  assert.deepEqual(await filesOf(a), await filesOf(b));
  assert.deepEqual(sa, sb);
  assert.ok(sa.files.length >= 3, `several token files (${sa.files.length})`);
  assert.equal(sa.documents.tokenized, docs.length);
  assert.equal(events.at(-1)?.unit, 'documents');
  assert.equal(events.at(-1)?.done, docs.length);
  const before = (await stat(join(a, SHARD_MANIFEST_FILE))).mtimeMs;
  assert.deepEqual(await tokenizeShard({ shard, tokenizer, config }, a, defaultStageContext()), sa);
  assert.equal((await stat(join(a, SHARD_MANIFEST_FILE))).mtimeMs, before);
});

test('rows rebuild every document exactly; splits follow the document hash; decode(encode(text)) round-trips', async () => {
  const dir = await mkdtemp(join(root, 'rows-'));
  const summary = await tokenizeShard({ shard, tokenizer, config }, dir, defaultStageContext());
  const rows = await rowsOf(dir);
  assert.deepEqual(rows.map((r) => r.rowId), rows.map((_, i) => i));
  const streams = new Map<string, number[]>();
  for (const row of rows) {
    assert.ok(row.inputIds.length <= 128 && row.inputIds[0] === tokenizer.bosId && row.specialMask[0] === 1);
    row.docIds.forEach((id, k) => {
      // A continued first document does not own the row's BOS; a document starting here does.
      const from = k === 0 ? (row.docOffsets[0] > 0 ? 1 : 0) : row.docStarts[k];
      const to = k + 1 < row.docIds.length ? row.docStarts[k + 1] : row.inputIds.length;
      const stream = streams.get(id) ?? [];
      assert.equal(stream.length, row.docOffsets[k], `${id}: offset continues its stream`);
      stream.push(...row.inputIds.slice(from, to));
      streams.set(id, stream);
    });
  }
  docs.forEach((doc, i) => {
    const ids = tokenizer.encode(doc.text);
    assert.deepEqual(streams.get(`good.jsonl.zst:${i + 1}`), [tokenizer.bosId, ...ids], `document ${i + 1}`);
    assert.equal(tokenizer.decode(ids), doc.text, `round trip of document ${i + 1}`);
  });
  for (const row of rows) assert.ok(row.docIds.every((id) => assignSplit(docs[Number(id.split(':')[1]) - 1].text, 'tsae-split-v1', config.splits) === row.split));
  assert.equal(summary.rows.train + summary.rows.val + summary.rows.test, rows.length);
  assert.equal(Object.values(summary.tokens.bySourceSet).reduce((a, b) => a + b, 0), docs.reduce((a, d) => a + tokenizer.encode(d.text).length, 0));
});

test('an interrupted shard resumes from its checkpoint without redoing finished files, byte-identical', async () => {
  const whole = await mkdtemp(join(root, 'whole-'));
  await tokenizeShard({ shard, tokenizer, config }, whole, defaultStageContext());
  const dir = await mkdtemp(join(root, 'resume-'));
  const controller = new AbortController();
  let calls = 0;
  const counting = (abortAt: number): TextTokenizer => ({ ...tokenizer, encode: (t) => { if (++calls === abortAt) controller.abort(new Error('simulated crash')); return tokenizer.encode(t); } });
  await assert.rejects(tokenizeShard({ shard, tokenizer: counting(60), config }, dir, defaultStageContext({ signal: controller.signal })), /simulated crash/);
  const checkpoint = JSON.parse(await readFile(join(dir, CHECKPOINT_FILE), 'utf8')) as { files: unknown[]; lastLine: number };
  assert.ok(checkpoint.files.length >= 1 && checkpoint.lastLine > 1);
  calls = 0;
  await tokenizeShard({ shard, tokenizer: counting(-1), config }, dir, defaultStageContext());
  assert.equal(calls, docs.length - checkpoint.lastLine, 'only documents after the checkpoint were tokenized again');
  assert.deepEqual(await filesOf(dir), await filesOf(whole));
});

test('bad input through the stage: skip reports in the manifest, fail stops the shard, a truncated zst under fail fails only its shard', async () => {
  const dir = await mkdtemp(join(root, 'badshard-'));
  const good = (t: string) => JSON.stringify({ text: t, meta: { pile_set_name: 'T' } });
  await writeFile(join(dir, 'bad.jsonl'), [good('fine one'), '{broken', JSON.stringify({ text: null }), good(' '), good('y'.repeat(50)), good('fine two')].join('\n') + '\n');
  const [bad] = await planCorpusShards({ path: join(dir, 'bad.jsonl') });
  const out = await mkdtemp(join(root, 'badout-'));
  const summary = await tokenizeShard({ shard: bad, tokenizer, config, corpus: { limits: { maxDocChars: 40 } } }, out, defaultStageContext());
  assert.deepEqual(summary.skips, {
    'empty-text': { count: 1, locations: ['bad.jsonl:4'], truncated: false },
    'malformed-json': { count: 1, locations: ['bad.jsonl:2'], truncated: false },
    'missing-text': { count: 1, locations: ['bad.jsonl:3'], truncated: false },
    'too-long': { count: 1, locations: ['bad.jsonl:5'], truncated: false },
  });
  assert.deepEqual(summary.documents, { read: 6, tokenized: 2, skipped: 4, bySplit: summary.documents.bySplit });
  const manifest = JSON.parse(await readFile(join(out, SHARD_MANIFEST_FILE), 'utf8')) as typeof summary;
  assert.deepEqual(manifest.skips, summary.skips);
  await assert.rejects(
    tokenizeShard({ shard: bad, tokenizer, config, corpus: { badInput: 'fail' } }, await mkdtemp(join(root, 'f-')), defaultStageContext()),
    (e: unknown) => e instanceof TsaeError && e.code === 'BAD_INPUT' && /bad\.jsonl:2: malformed-json/.test(e.message),
  );
  const zst = await readFile(join(root, 'good.jsonl.zst'));
  await writeFile(join(dir, 'cut.jsonl.zst'), zst.subarray(0, zst.length - 100));
  const [cut] = await planCorpusShards({ path: join(dir, 'cut.jsonl.zst') });
  await assert.rejects(tokenizeShard({ shard: cut, tokenizer, config, corpus: { badInput: 'fail' } }, await mkdtemp(join(root, 'c-')), defaultStageContext()),
    (e: unknown) => e instanceof TsaeError && e.code === 'BAD_INPUT' && !e.retryable && e.message.includes('cut.jsonl.zst') && e.message.includes(`byte ${zst.length - 100}`));
  const other = await tokenizeShard({ shard, tokenizer, config }, await mkdtemp(join(root, 'o-')), defaultStageContext());
  assert.equal(other.documents.tokenized, docs.length);
});

test('limits and truncate mode: deterministic prefix, dropped tokens counted', async () => {
  const limited = await tokenizeShard({ shard, tokenizer, config, corpus: { limits: { maxDocChars: 1_000_000, maxDocsPerShard: 5 } } }, await mkdtemp(join(root, 'l-')), defaultStageContext());
  assert.equal(limited.documents.tokenized, 5);
  assert.equal(limited.stoppedEarly, 'maxDocsPerShard');
  const dir = await mkdtemp(join(root, 't-'));
  const truncated = await tokenizeShard({ shard, tokenizer, config: { ...config, packing: 'truncate', contextLength: 16 } }, dir, defaultStageContext());
  const rows = await rowsOf(dir);
  assert.equal(rows.length, docs.length);
  const lengths = docs.map((d) => tokenizer.encode(d.text).length);
  assert.deepEqual(rows.map((r) => r.inputIds.length), lengths.map((n) => Math.min(16, n + 1)));
  assert.equal(truncated.tokens.dropped, lengths.reduce((a, n) => a + Math.max(0, n - 15), 0));
});
