/**
 * Corrupt compressed corpus data through the tokenize stage (issue 15 §5): under badInput 'skip'
 * a damaged .jsonl.zst or Parquet file is recorded in its shard manifest (file, byte offset,
 * documents kept) and the shard finishes; under 'fail' it stops at once with a non-retryable
 * BAD_INPUT error naming the file and the byte offset. The damage is real: zstd frames and
 * Parquet pages written here and then cut or overwritten.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { TokenizeShardSummary } from '../../../schemas/corpus.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { planCorpusShards } from '../../../stages/corpus/plan-shards.js';
import { loadTokenizer, type TextTokenizer } from '../../../stages/tokenize/load-tokenizer.js';
import { tokenizeShardCounts } from '../../../stages/tokenize/shard-counts.js';
import { CHECKPOINT_FILE, SHARD_MANIFEST_FILE, tokenizeShard } from '../../../stages/tokenize/tokenize-shard.js';
import { fixturePath } from '../../helpers/paths.js';

const zstd = createRequire(import.meta.url)('zstd-napi') as { compress(data: Uint8Array): Buffer };
const tokenizer = await loadTokenizer({ kind: 'folder', path: fixturePath('model', 'gemma2') });
const root = await mkdtemp(join(tmpdir(), 'tsae-corrupt-'));
after(() => rm(root, { recursive: true, force: true }));
const config = { contextLength: 16, rowsPerFile: 8, rowGroupRows: 4, splits: { train: 0.8, val: 0.1, test: 0.1 } };

const DOCS_PER_FRAME = 10;
const FRAMES = 4;

function docLine(file: string, i: number): string {
  return JSON.stringify({ text: `${file} document ${i}: ` + 'the quick brown fox jumps. '.repeat(1 + (i % 5)), meta: { pile_set_name: 'Test' } });
}

/** A .jsonl.zst of FRAMES independent frames of DOCS_PER_FRAME documents; returns the frame sizes. */
function multiFrameZst(file: string): { bytes: Buffer; frames: number[] } {
  const frames = Array.from({ length: FRAMES }, (_, f) =>
    zstd.compress(Buffer.from(Array.from({ length: DOCS_PER_FRAME }, (_, k) => docLine(file, f * DOCS_PER_FRAME + k)).join('\n') + '\n')),
  );
  return { bytes: Buffer.concat(frames), frames: frames.map((f) => f.length) };
}

/** Six .jsonl.zst files; c.jsonl.zst has bytes overwritten inside its third frame. */
async function corpusWithOneCorruptFile(): Promise<{ dir: string; damagedAt: number; frames: number[] }> {
  const dir = await mkdtemp(join(root, 'six-'));
  let damagedAt = -1;
  let frames: number[] = [];
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) {
    const file = multiFrameZst(name);
    if (name === 'c') {
      frames = file.frames;
      damagedAt = file.frames[0] + file.frames[1] + 12;
      for (let k = 0; k < 16; k++) file.bytes[damagedAt + k] ^= 0xff;
    }
    await writeFile(join(dir, `${name}.jsonl.zst`), file.bytes);
  }
  return { dir, damagedAt, frames };
}

/** Each shard of the corpus in dir tokenized into <outDir>/<shard id>; failures are returned, not thrown. */
async function tokenizeAll(dir: string, badInput: 'skip' | 'fail'): Promise<{ outDir: string; results: Map<string, TokenizeShardSummary | TsaeError> }> {
  const out = new Map<string, TokenizeShardSummary | TsaeError>();
  const outDir = await mkdtemp(join(root, `out-${badInput}-`));
  for (const plan of await planCorpusShards({ path: dir, badInput })) {
    const work = join(outDir, plan.id);
    await mkdir(work, { recursive: true });
    out.set(plan.id, await tokenizeShard({ shard: plan, tokenizer, config, corpus: { badInput } }, work, defaultStageContext()).catch((e: TsaeError) => e));
  }
  return { outDir, results: out };
}

test('skip: one corrupt .zst among six is recorded (file, byte offset, documents kept) and the other five are whole', async () => {
  const { dir, damagedAt, frames } = await corpusWithOneCorruptFile();
  const { outDir, results } = await tokenizeAll(dir, 'skip');
  assert.equal(results.size, 6);
  for (const [id, result] of results) {
    assert.ok(!(result instanceof Error), `${id}: ${String(result)}`);
    if (id === 'c.jsonl.zst') continue;
    assert.equal(result.documents.tokenized, FRAMES * DOCS_PER_FRAME, id);
    assert.deepEqual(result.corrupt, [], id);
  }
  const c = results.get('c.jsonl.zst') as TokenizeShardSummary;
  // The first two frames decode whole; the damaged third frame yields nothing (one zstd block).
  assert.equal(c.documents.tokenized, 2 * DOCS_PER_FRAME);
  assert.equal(c.corrupt.length, 1);
  const [report] = c.corrupt;
  assert.equal(report.file, 'c.jsonl.zst');
  assert.equal(report.reason, 'corrupt-zstd');
  assert.equal(report.documentsKept, 2 * DOCS_PER_FRAME);
  assert.equal(report.lastLocation, `c.jsonl.zst:${2 * DOCS_PER_FRAME}`);
  assert.equal(report.rowsLost, null);
  assert.ok(report.byteOffset >= frames[0] + frames[1] && report.byteOffset <= damagedAt + 16, `offset ${report.byteOffset} is in the damaged frame`);
  assert.match(report.message, /c\.jsonl\.zst at compressed byte offset \d+/);
  const onDisk = JSON.parse(await readFile(join(outDir, 'c.jsonl.zst', SHARD_MANIFEST_FILE), 'utf8')) as TokenizeShardSummary;
  assert.deepEqual(onDisk.corrupt, c.corrupt);
  assert.equal(tokenizeShardCounts(c).corrupt, 1);
});

test('fail: the corrupt shard fails at once with a non-retryable BAD_INPUT naming the file and byte offset; the others succeed', async () => {
  const { dir } = await corpusWithOneCorruptFile();
  const skipped = (await tokenizeAll(dir, 'skip')).results.get('c.jsonl.zst') as TokenizeShardSummary;
  const { results } = await tokenizeAll(dir, 'fail');
  const error = results.get('c.jsonl.zst');
  assert.ok(error instanceof TsaeError, String(error));
  assert.equal(error.code, 'BAD_INPUT');
  assert.equal(error.retryable, false);
  assert.ok(error.message.includes(join(dir, 'c.jsonl.zst')), error.message);
  assert.ok(error.message.includes(`at compressed byte offset ${skipped.corrupt[0].byteOffset}`), error.message);
  assert.match(error.message, /corpus\.badInput: skip/);
  assert.equal(error.details.byteOffset, skipped.corrupt[0].byteOffset);
  for (const [id, result] of results) if (id !== 'c.jsonl.zst') assert.ok(!(result instanceof Error), `${id}: ${String(result)}`);
});

test('skip: a truncated .zst keeps the documents of its whole frames and records the end of the file', async () => {
  const dir = await mkdtemp(join(root, 'cut-'));
  const { bytes, frames } = multiFrameZst('t');
  const cut = bytes.subarray(0, frames[0] + Math.floor(frames[1] / 2));
  await writeFile(join(dir, 't.jsonl.zst'), cut);
  const [plan] = await planCorpusShards({ path: dir });
  const summary = await tokenizeShard({ shard: plan, tokenizer, config }, await mkdtemp(join(root, 'cut-out-')), defaultStageContext());
  assert.equal(summary.corrupt.length, 1);
  const [report] = summary.corrupt;
  assert.deepEqual([report.reason, report.byteOffset, report.file], ['truncated-zstd', cut.length, 't.jsonl.zst']);
  // Lines of the cut frame that decoded before the end are kept; the partial last line is not.
  assert.ok(report.documentsKept >= DOCS_PER_FRAME && report.documentsKept < 2 * DOCS_PER_FRAME, `kept ${report.documentsKept}`);
  assert.equal(summary.documents.tokenized, report.documentsKept);
  assert.equal(summary.documents.skipped, 0);
});

test('a resumed shard records the same corruption and writes the same bytes as an uninterrupted one', async () => {
  const { dir } = await corpusWithOneCorruptFile();
  const [plan] = (await planCorpusShards({ path: dir })).filter((p) => p.id === 'c.jsonl.zst');
  const whole = await mkdtemp(join(root, 'whole-'));
  const expected = await tokenizeShard({ shard: plan, tokenizer, config }, whole, defaultStageContext());
  const resumed = await mkdtemp(join(root, 'resumed-'));
  const controller = new AbortController();
  let calls = 0;
  const crashing: TextTokenizer = { ...tokenizer, encode: (t) => { if (++calls === 15) controller.abort(new Error('simulated crash')); return tokenizer.encode(t); } };
  await assert.rejects(tokenizeShard({ shard: plan, tokenizer: crashing, config }, resumed, defaultStageContext({ signal: controller.signal })), /simulated crash/);
  assert.ok((await readdir(resumed)).includes(CHECKPOINT_FILE), 'a checkpoint was written before the crash');
  const again = await tokenizeShard({ shard: plan, tokenizer, config }, resumed, defaultStageContext());
  assert.deepEqual(again, expected);
  for (const name of (await readdir(whole)).sort()) assert.deepEqual(await readFile(join(resumed, name)), await readFile(join(whole, name)), name);
});

/** A Parquet corpus file of 3 row groups of 10 documents (snappy pages, as Hugging Face writes). */
function parquetCorpus(): { bytes: Uint8Array; texts: string[] } {
  const texts = Array.from({ length: 30 }, (_, i) => `parquet document ${i}: ` + 'lorem ipsum dolor sit amet. '.repeat(1 + (i % 4)));
  const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 10 }));
  return { bytes, texts };
}

test('Parquet: a row group that does not decode is recorded with its rows and byte offset; the next group is read', async () => {
  const dir = await mkdtemp(join(root, 'pq-'));
  const { bytes } = parquetCorpus();
  const good = parquetCorpus().bytes;
  await writeFile(join(dir, 'good.parquet'), good);
  const planOfGood = (await planCorpusShards({ path: join(dir, 'good.parquet'), shardRows: 100 }))[0];
  const reference = await tokenizeShard({ shard: planOfGood, tokenizer, config }, await mkdtemp(join(root, 'pq-ref-')), defaultStageContext());
  assert.equal(reference.documents.tokenized, 30);
  // Damage the second row group's page header (its data starts right after the first group's).
  const { parquetMetadata } = await import('hyparquet');
  const groupStart = Number(parquetMetadata(bytes.buffer as ArrayBuffer).row_groups[1].columns[0].meta_data!.data_page_offset);
  for (let k = 2; k < 8; k++) bytes[groupStart + k] ^= 0xff;
  await writeFile(join(dir, 'bad.parquet'), bytes);
  const [plan] = await planCorpusShards({ path: join(dir, 'bad.parquet'), shardRows: 100 });
  const summary = await tokenizeShard({ shard: plan, tokenizer, config }, await mkdtemp(join(root, 'pq-out-')), defaultStageContext());
  assert.equal(summary.documents.tokenized, 20);
  assert.equal(summary.corrupt.length, 1);
  assert.deepEqual({ ...summary.corrupt[0], message: undefined }, {
    file: 'bad.parquet', reason: 'corrupt-parquet', byteOffset: groupStart, documentsKept: 10, lastLocation: 'bad.parquet#9', rowsLost: [10, 20], message: undefined,
  });
  await assert.rejects(
    tokenizeShard({ shard: plan, tokenizer, config, corpus: { badInput: 'fail' } }, await mkdtemp(join(root, 'pq-fail-')), defaultStageContext()),
    (e: unknown) => e instanceof TsaeError && e.code === 'BAD_INPUT' && !e.retryable && e.message.includes(join(dir, 'bad.parquet')) && e.message.includes(`row group at byte ${groupStart} (rows 10-19)`),
  );
});

test('Parquet: a file whose footer is gone is planned whole under skip and recorded as unreadable, nothing kept', async () => {
  const dir = await mkdtemp(join(root, 'pq-cut-'));
  const { bytes } = parquetCorpus();
  await writeFile(join(dir, 'cut.parquet'), bytes.subarray(0, bytes.length - 30));
  const [plan] = await planCorpusShards({ path: dir });
  const summary = await tokenizeShard({ shard: plan, tokenizer, config }, await mkdtemp(join(root, 'pq-cut-out-')), defaultStageContext());
  assert.deepEqual(summary.corrupt.map((r) => [r.file, r.reason, r.byteOffset, r.documentsKept, r.lastLocation]), [['cut.parquet', 'unreadable-parquet', bytes.length - 38, 0, null]]);
  assert.equal(summary.files.length, 0);
});
