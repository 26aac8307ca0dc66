import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CorpusShardPlan } from '../../../schemas/corpus.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { CORPUS_PLAN_FILE, CORPUS_PLAN_SUMMARY_FILE, readCorpusPlanSlice, readCorpusPlanSummary, writeCorpusPlan } from '../../../stages/corpus/plan-file.js';
import { planCorpusShards } from '../../../stages/corpus/plan-shards.js';

const root = await mkdtemp(join(tmpdir(), 'tsae-plan-'));
after(() => rm(root, { recursive: true, force: true }));

/** A plan like a big cut .jsonl corpus: `files` files of `parts` line-range shards each, plus one .zst. */
function bigPlan(files: number, parts: number): CorpusShardPlan[] {
  const plans: CorpusShardPlan[] = [];
  for (let f = 0; f < files; f++) {
    for (let k = 0; k < parts; k++) {
      const relPath = `train/${String(f).padStart(3, '0')}.jsonl`;
      plans.push({ id: `${relPath}@${k}`, index: plans.length, file: `/corpus/${relPath}`, relPath, format: 'jsonl', bytes: 1000 * parts, fingerprint: `f${f}`, byteStart: 1000 * k, byteEnd: 1000 * (k + 1), firstLine: 1 + 10 * k });
    }
  }
  plans.push({ id: 'z.jsonl.zst', index: plans.length, file: '/corpus/z.jsonl.zst', relPath: 'z.jsonl.zst', format: 'jsonl.zst', bytes: 777, fingerprint: 'z' });
  return plans;
}

test('slices read back exactly the shards written, at index boundaries and past the end', async () => {
  const plans = bigPlan(50, 60); // 3001 shards: three index blocks
  const dir = await mkdtemp(join(root, 'p-'));
  const summary = await writeCorpusPlan(plans, dir);
  assert.equal(summary.shards, 3001);
  assert.deepEqual(summary.formats, { jsonl: { shards: 3000, bytes: 3_000_000 }, 'jsonl.zst': { shards: 1, bytes: 777 } });
  assert.equal(summary.index.length, 3);
  assert.deepEqual(await readCorpusPlanSummary(dir), summary);
  for (const [start, count] of [[0, 5], [1020, 10], [1024, 1], [2047, 2], [2990, 50], [0, 3001], [3001, 4], [5000, 1]]) {
    assert.deepEqual(await readCorpusPlanSlice(dir, start, count), plans.slice(start, start + count), `slice ${start}+${count}`);
  }
  // The workflow holds only the summary: a few hundred bytes for 3001 shards (the plan is ~0.6 MB).
  assert.ok(JSON.stringify(summary).length < 1000);
  assert.ok((await readFile(join(dir, CORPUS_PLAN_FILE))).length > 500_000);
});

test('same plan, same bytes; a real plan of a corpus folder round-trips', async () => {
  const corpus = await mkdtemp(join(root, 'c-'));
  const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ text: `document ${i} `.repeat(5) }));
  await writeFile(join(corpus, 'big.jsonl'), lines.join('\n') + '\n');
  await writeFile(join(corpus, 'small.jsonl'), lines.slice(0, 3).join('\n') + '\n');
  const plans = await planCorpusShards({ path: corpus, shardBytes: 4096 });
  assert.ok(plans.length > 5);
  const [a, b] = [await mkdtemp(join(root, 'a-')), await mkdtemp(join(root, 'b-'))];
  await writeCorpusPlan(plans, a);
  await writeCorpusPlan(plans, b);
  for (const name of [CORPUS_PLAN_FILE, CORPUS_PLAN_SUMMARY_FILE]) assert.deepEqual(await readFile(join(a, name)), await readFile(join(b, name)));
  assert.deepEqual(await readCorpusPlanSlice(a, 0, plans.length), plans);
  const summary = await readCorpusPlanSummary(a);
  assert.equal(summary.formats.jsonl.bytes, plans.reduce((s, p) => s + p.byteEnd! - p.byteStart!, 0), 'cut shards count their own ranges');
});

test('a damaged plan file is a CORRUPT_ARTIFACT naming it, never a wrong shard', async () => {
  const plans = bigPlan(2, 3);
  const dir = await mkdtemp(join(root, 'd-'));
  await writeCorpusPlan(plans, dir);
  const path = join(dir, CORPUS_PLAN_FILE);
  const text = await readFile(path, 'utf8');
  const isCorrupt = (pattern: RegExp) => (e: unknown) => e instanceof TsaeError && e.code === 'CORRUPT_ARTIFACT' && e.message.includes(path) && pattern.test(e.message);
  await writeFile(path, text.split('\n').slice(0, 4).join('\n') + '\n');
  await assert.rejects(readCorpusPlanSlice(dir, 2, 5), isCorrupt(/ends after 4 shards; the summary says 7/));
  const lines = text.split('\n');
  [lines[2], lines[3]] = [lines[3], lines[2]];
  await writeFile(path, lines.join('\n'));
  await assert.rejects(readCorpusPlanSlice(dir, 1, 3), isCorrupt(/line 3 is not shard 2/));
  await writeFile(join(dir, CORPUS_PLAN_SUMMARY_FILE), '{"schemaVersion": 1');
  await assert.rejects(readCorpusPlanSummary(dir), (e: unknown) => e instanceof TsaeError && e.code === 'CORRUPT_ARTIFACT' && e.message.includes(CORPUS_PLAN_SUMMARY_FILE));
});
