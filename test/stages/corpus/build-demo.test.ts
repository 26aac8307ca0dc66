import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStageContext } from '../../../lib/core/context.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { buildDemoCorpus, DEMO_MANIFEST_FILE } from '../../../stages/corpus/build-demo.js';
import { planCorpusShards } from '../../../stages/corpus/plan-shards.js';
import { loadProbeTask, readLabelledFile } from '../../../stages/corpus/probe-tasks.js';
import { readShardRecords } from '../../../stages/corpus/read-corpus.js';
import { SkipLog } from '../../../stages/corpus/skip-log.js';
import { fixturePath } from '../../helpers/paths.js';

const scratch = await mkdtemp(join(tmpdir(), 'tsae-demo-'));
after(() => rm(scratch, { recursive: true, force: true }));
const out = join(scratch, 'full');
const summary = await buildDemoCorpus({ out }, defaultStageContext());
const expected = JSON.parse(await readFile(fixturePath('corpus', 'demo-corpus-sha256.json'), 'utf8')) as { files: Record<string, string> };

test('demo corpus: Pile layout, >= 5 sources, >= 20 MB of text, licences recorded, same bytes as the committed build', async () => {
  assert.deepEqual(summary.files.map((f) => f.path), [
    'test.jsonl.zst', ...Array.from({ length: 8 }, (_, i) => `train/0${i}.jsonl.zst`), 'val.jsonl.zst',
  ]);
  assert.ok(summary.textBytes >= 20e6, `${summary.textBytes} bytes of text`);
  assert.ok(summary.sources.length >= 5);
  for (const source of summary.sources) {
    assert.ok(source.documents > 0, source.pileSetName);
    assert.ok(source.packages.length > 0 && source.packages.every((p) => p.license && p.version), `licences of ${source.pileSetName}`);
  }
  assert.deepEqual(Object.fromEntries(summary.files.map((f) => [f.path, f.sha256])), expected.files);
  const manifest = JSON.parse(await readFile(join(out, DEMO_MANIFEST_FILE), 'utf8')) as typeof summary;
  assert.deepEqual(manifest, summary);
});

test('demo corpus: every line is a Pile record whose pile_set_name matches the manifest counts', async () => {
  const counts: Record<string, number> = {};
  const skips = new SkipLog('fail');
  for (const shard of await planCorpusShards({ path: out })) {
    for await (const r of readShardRecords(shard, { textField: 'text', metaField: 'meta', maxDocChars: 10_000_000, skips })) {
      const set = r.meta.pile_set_name as string;
      counts[set] = (counts[set] ?? 0) + 1;
    }
  }
  assert.deepEqual(counts, Object.fromEntries(summary.sources.map((s) => [s.pileSetName, s.documents])));
});

test('a second build reuses the folder; a fresh build elsewhere gives the same bytes', async () => {
  const before = (await stat(join(out, 'train/00.jsonl.zst'))).mtimeMs;
  assert.deepEqual(await buildDemoCorpus({ out }, defaultStageContext()), summary);
  assert.equal((await stat(join(out, 'train/00.jsonl.zst'))).mtimeMs, before);
  const other = join(scratch, 'subset');
  const subset = await buildDemoCorpus({ out: other, sources: ['Gutenberg (PG-19)', 'State of the Union'], trainShards: 2 }, defaultStageContext());
  const again = await buildDemoCorpus({ out: join(scratch, 'subset-again'), sources: ['Gutenberg (PG-19)', 'State of the Union'], trainShards: 2 }, defaultStageContext());
  assert.deepEqual(subset.files, again.files);
  await assert.rejects(buildDemoCorpus({ out: other, sources: ['Books3'] }, defaultStageContext()), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG' && /allowed: Gutenberg/.test(e.message));
});

test('probe tasks: four labelled tasks with train/test splits, deterministic', async () => {
  const wanted = {
    'source-set': ['Github', 'SpamAssassin Mail', 'UDHR Translations'],
    spam: ['ham', 'spam'],
    language: ['deu', 'fra', 'spa'],
    'programming-language': ['C', 'JavaScript', 'Rust', 'TypeScript'],
  } as const;
  for (const [task, labels] of Object.entries(wanted) as [keyof typeof wanted, readonly string[]][]) {
    const examples = await loadProbeTask(out, task, { maxPerLabel: 300 });
    const found = new Set(examples.map((e) => e.label));
    for (const label of labels) assert.ok(found.has(label), `${task}: label ${label} in ${[...found].join(', ')}`);
    assert.ok(examples.some((e) => e.split === 'test') && examples.some((e) => e.split === 'train'), task);
    assert.ok(examples.every((e) => e.task === task && e.text.length > 0 && e.text.length <= 4000));
    const perLabelSplit = new Map<string, number>();
    for (const e of examples) perLabelSplit.set(`${e.label}/${e.split}`, (perLabelSplit.get(`${e.label}/${e.split}`) ?? 0) + 1);
    assert.ok(Math.max(...perLabelSplit.values()) <= 300, `${task} capped`);
    if (task === 'spam') assert.deepEqual(await loadProbeTask(out, task, { maxPerLabel: 300 }), examples, 'deterministic');
  }
});

test('readLabelledFile reads users\' own (text, label) JSON lines and names bad lines', async () => {
  const dir = join(scratch, 'labelled');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(dir);
  await writeFile(join(dir, 'l.jsonl'), '{"text":"a b","label":1}\n\n{"text":"c","label":"x","split":"test"}\n');
  const rows = await readLabelledFile(join(dir, 'l.jsonl'), 'mine');
  assert.deepEqual(rows.map((r) => [r.label, r.docId.endsWith(':1') || r.docId.endsWith(':3')]), [['1', true], ['x', true]]);
  assert.equal(rows[1].split, 'test');
  await writeFile(join(dir, 'bad.jsonl'), '{"text":"a","label":1}\n{"text":5,"label":1}\n');
  await assert.rejects(readLabelledFile(join(dir, 'bad.jsonl'), 'mine'), /bad\.jsonl:2/);
});
