import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsaeError } from '../../../lib/core/errors.js';
import { globToRegExp, listCorpusFiles } from '../../../stages/corpus/list-files.js';
import { planCorpusShards } from '../../../stages/corpus/plan-shards.js';
import { readShardRecords } from '../../../stages/corpus/read-corpus.js';
import { SkipLog } from '../../../stages/corpus/skip-log.js';
import { fixturePath } from '../../helpers/paths.js';

const scratchRoot = await mkdtemp(join(tmpdir(), 'tsae-test-'));
after(() => rm(scratchRoot, { recursive: true, force: true }));

async function readAll(shard: Parameters<typeof readShardRecords>[0], skips = new SkipLog('skip')) {
  const out: { text: string; line: number; location: string; set: unknown }[] = [];
  for await (const r of readShardRecords(shard, { textField: 'text', metaField: 'meta', maxDocChars: 1000, skips })) {
    out.push({ text: r.text, line: r.line, location: r.location, set: r.meta.pile_set_name });
  }
  return out;
}

async function pileLayout(): Promise<string> {
  const root = await mkdtemp(join(scratchRoot, 'plan-'));
  await mkdir(join(root, 'train'));
  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `${tag} doc ${i + 1}`, meta: { pile_set_name: 'S' } })).join('\n') + '\n';
  await writeFile(join(root, 'train', '01.jsonl'), lines(100, 'b'));
  await writeFile(join(root, 'train', '00.jsonl'), lines(3, 'a'));
  await writeFile(join(root, 'val.jsonl'), lines(2, 'v'));
  await writeFile(join(root, 'notes.txt'), 'not a corpus file');
  await writeFile(join(root, '.hidden.jsonl'), lines(1, 'h'));
  await copyFile(fixturePath('corpus', 'pile-sample.parquet'), join(root, 'train', 'pq.parquet'));
  return root;
}

test('globToRegExp: ** spans folders, * and ? do not', () => {
  assert.ok(globToRegExp('train/*.jsonl').test('train/00.jsonl'));
  assert.ok(!globToRegExp('train/*.jsonl').test('train/a/00.jsonl'));
  assert.ok(globToRegExp('**/*.jsonl').test('a/b/c.jsonl'));
  assert.ok(globToRegExp('**/*.jsonl').test('c.jsonl'));
  assert.ok(globToRegExp('0?.jsonl').test('01.jsonl') && !globToRegExp('0?.jsonl').test('011.jsonl'));
});

test('listCorpusFiles: directory, glob and single file; sorted; hidden and foreign files ignored', async () => {
  const root = await pileLayout();
  const all = await listCorpusFiles(root, ['jsonl', 'jsonl.zst', 'parquet']);
  assert.deepEqual(all.files.map((f) => f.relPath), ['train/00.jsonl', 'train/01.jsonl', 'train/pq.parquet', 'val.jsonl']);
  const glob = await listCorpusFiles(join(root, 'train', '*.jsonl'), ['jsonl', 'jsonl.zst', 'parquet']);
  assert.equal(glob.root, root + '/train');
  assert.deepEqual(glob.files.map((f) => f.relPath), ['00.jsonl', '01.jsonl']);
  const single = await listCorpusFiles(join(root, 'val.jsonl'), ['jsonl']);
  assert.deepEqual(single.files.map((f) => [f.relPath, f.format]), [['val.jsonl', 'jsonl']]);
  await assert.rejects(listCorpusFiles(join(root, 'notes.txt'), ['jsonl']), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG' && /\.jsonl\.zst/.test(e.message));
  await assert.rejects(listCorpusFiles(join(root, 'nope', '*.jsonl'), ['jsonl']), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG');
});

test('planCorpusShards cuts big .jsonl at line starts and Parquet at row groups; shards cover every record once', async () => {
  const root = await pileLayout();
  const plan = await planCorpusShards({ path: root, shardBytes: 600, shardRows: 10 });
  const again = await planCorpusShards({ path: root, shardBytes: 600, shardRows: 10 });
  assert.deepEqual(plan, again, 'deterministic');
  const big = plan.filter((p) => p.relPath === 'train/01.jsonl');
  assert.ok(big.length > 2, `expected several shards, got ${big.length}`);
  const texts: string[] = [];
  for (const shard of big) {
    const records = await readAll(shard);
    assert.equal(records[0].line, shard.firstLine, `${shard.id} starts at its planned line`);
    for (const r of records) assert.equal(r.text, `b doc ${r.line}`, 'line numbers are exact inside ranges');
    texts.push(...records.map((r) => r.text));
  }
  assert.deepEqual(texts, Array.from({ length: 100 }, (_, i) => `b doc ${i + 1}`));
  const pq = plan.filter((p) => p.relPath === 'train/pq.parquet');
  assert.deepEqual(pq.map((p) => [p.id, p.rowStart, p.rowEnd]), [['train/pq.parquet@0', 0, 10], ['train/pq.parquet@1', 10, 20], ['train/pq.parquet@2', 20, 25]]);
  assert.deepEqual(plan.map((p) => p.index), plan.map((_, i) => i));
  assert.equal((await planCorpusShards({ path: root, maxShards: 2 })).length, 2);
});

test('Parquet corpus (pyarrow, zstd, meta struct): rows streamed by row group, bad rows reported as file#row', async () => {
  const root = await pileLayout();
  const plan = (await planCorpusShards({ path: join(root, 'train', 'pq.parquet'), shardRows: 10 }));
  const skips = new SkipLog('skip');
  const rows = (await Promise.all(plan.map((s) => readAll(s, skips)))).flat();
  assert.equal(rows.length, 23);
  assert.equal(rows[0].text, 'Parquet document 0: the quick brown fox jumps over the lazy dog 0 times.');
  assert.equal(rows[0].set, 'Pile-CC');
  assert.equal(rows[1].set, 'Github');
  assert.deepEqual(skips.toJSON(), {
    'empty-text': { count: 1, locations: ['pq.parquet#21'], truncated: false },
    'missing-text': { count: 1, locations: ['pq.parquet#7'], truncated: false },
  });
});
