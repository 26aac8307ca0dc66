import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../../lib/core/logger.js';
import { createPlainReluSae } from '../../../stages/evaluate/plain-relu-sae.js';
import { csrFromDense } from '../../../stages/evaluate/design-matrix.js';
import { loadLabelledTextFile, parseCsv, splitProbeDatasets } from '../../../stages/evaluate/probe-datasets.js';
import { poolBatch, type PooledActivations } from '../../../stages/evaluate/pooling.js';
import { createRng } from '../../../stages/evaluate/random.js';
import { classRowRanges, probeTask, sampleOneVsRest } from '../../../stages/evaluate/sparse-probing.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';

const fixture = loadEvalFixture('sparse_probing');
const sae = createPlainReluSae({
  dIn: fixture.tensors.W_enc.shape[0],
  dSae: fixture.tensors.W_enc.shape[1],
  wEnc: f32(fixture, 'W_enc'),
  bEnc: f32(fixture, 'b_enc'),
  wDec: f32(fixture, 'W_dec'),
  bDec: f32(fixture, 'b_dec'),
});

async function pooledSplit(task: string, split: string): Promise<PooledActivations> {
  const [n, seq, d] = fixture.tensors[`${task}_${split}_residuals`].shape;
  const special = i32(fixture, `${task}_${split}_special`);
  const keep = Uint8Array.from(special, (s) => 1 - s);
  const pooled = await poolBatch(f32(fixture, `${task}_${split}_residuals`), keep, n, seq, d, [sae]);
  return { count: n, residual: pooled.residual, latents: [csrFromDense(pooled.latents[0], n, sae.dSae)] };
}

for (const [task, classes] of Object.entries(fixture.meta.tasks as Record<string, string[]>)) {
  test(`sparse probing accuracies on ${task} are within 0.01 of SAEBench's procedure`, async () => {
    const ref = fixture.expected[task];
    const train = await pooledSplit(task, 'train');
    const test = await pooledSplit(task, 'test');
    const d = sae.dIn;
    // Pooling equals SAEBench's mean over non-special tokens (first rows of each class).
    const half = train.count / 2;
    classes.forEach((c, ci) => {
      ref.pooled_llm_train_head[c].forEach((row: number[], r: number) =>
        row.forEach((v, j) => assertClose(train.residual[(ci * half + r) * d + j], v, 1e-5, `pooled llm ${c}[${r},${j}]`)),
      );
    });
    const result = probeTask(
      { task, classes, trainCounts: [half, half], testCounts: [test.count / 2, test.count / 2] },
      train,
      test,
      d,
      { kValues: fixture.meta.k_values, fullLlmProbe: true, fullSaeProbe: true },
      createRng(1),
    );
    for (const [key, perClass] of Object.entries(ref)) {
      if (key.startsWith('pooled')) continue;
      for (const c of classes) {
        const ours = key.startsWith('llm') ? result.perClass[c].llm[key] : result.perClass[c].sae[0][key];
        assertClose(ours, (perClass as Record<string, number>)[c], 0.01, `${task} ${c} ${key}`);
      }
    }
    assert.equal(result.dataset_name, task);
    assert.ok(result.llm.llm_top_1_test_accuracy > 0.5);
  });
}

test('one-vs-rest sampling draws balanced negatives evenly from the other classes', () => {
  const pools = classRowRanges([10, 30, 30, 2]);
  const { pos, neg } = sampleOneVsRest(pools, 0, createRng(3));
  assert.deepEqual(pos, pools[0]);
  assert.equal(neg.length, 10);
  assert.equal(new Set(neg).size, 10);
  assert.ok(neg.every((r) => r >= 10));
  // Class 3 has only 2 rows: the shortfall is covered by the others (ceil(10/3) = 4 each, then cut to 10).
  const fromEach = [1, 2, 3].map((c) => neg.filter((r) => pools[c].includes(r)).length);
  assert.ok(fromEach[2] <= 2 && fromEach.reduce((a, b) => a + b) === 10);
});

test('(text, label) files load from JSONL and CSV, and bad rows name file and line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'probe-'));
  await writeFile(join(dir, 'reviews.jsonl'), '{"text": "good", "label": 1}\n\n{"text": "bad", "label": 0, "task": "sentiment"}\n');
  await writeFile(join(dir, 'langs.csv'), 'label,text\nen,"Hello, world"\nfr,"dit ""bonjour""\nsur deux lignes"\n');
  await writeFile(join(dir, 'broken.jsonl'), '{"text": "ok", "label": "a"}\n{"text": 3, "label": "b"}\n');
  const jsonl = await loadLabelledTextFile(join(dir, 'reviews.jsonl'));
  assert.deepEqual(jsonl, [
    { text: 'good', label: '1', task: 'reviews' },
    { text: 'bad', label: '0', task: 'sentiment' },
  ]);
  const csv = await loadLabelledTextFile(join(dir, 'langs.csv'));
  assert.deepEqual(csv, [
    { text: 'Hello, world', label: 'en', task: 'langs' },
    { text: 'dit "bonjour"\nsur deux lignes', label: 'fr', task: 'langs' },
  ]);
  await assert.rejects(loadLabelledTextFile(join(dir, 'broken.jsonl')), /broken\.jsonl:2: field "text" must be a string/);
  await assert.rejects(loadLabelledTextFile(join(dir, 'x.txt')), /allowed: \.jsonl, \.csv/);
  assert.deepEqual(parseCsv('a,b\r\n1,2'), [['a', 'b'], ['1', '2']]);
});

test('examples split into per-class pools; thin classes and single-class tasks are dropped', () => {
  const examples = [
    ...Array.from({ length: 50 }, (_, i) => ({ text: `spam ${i}`, label: 'spam', task: 'mail' })),
    ...Array.from({ length: 20 }, (_, i) => ({ text: `ham ${i}`, label: 'ham', task: 'mail' })),
    ...Array.from({ length: 3 }, (_, i) => ({ text: `rare ${i}`, label: 'rare', task: 'mail' })),
    ...Array.from({ length: 30 }, (_, i) => ({ text: `x ${i}`, label: 'only', task: 'solo' })),
  ];
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (m: string) => warnings.push(m) };
  const datasets = splitProbeDatasets(examples, { trainPerClass: 30, testPerClass: 8, minExamplesPerClass: 10 }, createRng(1), log);
  assert.equal(datasets.length, 1);
  const [mail] = datasets;
  assert.deepEqual(mail.classes, ['ham', 'spam']);
  assert.deepEqual(mail.test.map((t) => t.length), [4, 8]);
  assert.deepEqual(mail.train.map((t) => t.length), [16, 30]);
  const all = [...mail.train[1], ...mail.test[1]];
  assert.equal(new Set(all).size, all.length, 'train and test do not overlap');
  assert.equal(warnings.length, 2);
  // Examples that carry a split keep it.
  const fixed = Array.from({ length: 40 }, (_, i) => ({ text: `t${i}`, label: i % 2 ? 'a' : 'b', task: 'fixed', split: (i < 10 ? 'test' : 'train') as 'test' | 'train' }));
  const [f] = splitProbeDatasets(fixed, { trainPerClass: 100, testPerClass: 100, minExamplesPerClass: 5 }, createRng(2), log);
  assert.deepEqual(f.test.map((t) => t.length), [5, 5]);
  assert.ok(f.test.flat().every((t) => Number(t.slice(1)) < 10));
});

test('a task with too few test texts gets train texts moved to test, up to half of each class, and says so', () => {
  // Corpus split by hash: 20% test. 3 classes of 120, 60 and 20 texts: 40 test texts, 100 wanted.
  const sizes: Record<string, number> = { a: 120, b: 60, c: 20 };
  const examples = Object.entries(sizes).flatMap(([label, n]) =>
    Array.from({ length: n }, (_, i) => ({ text: `${label}${i}`, label, task: 'lang', split: (i < n / 5 ? 'test' : 'train') as 'test' | 'train' })),
  );
  const options = { trainPerClass: 1000, testPerClass: 1000, minExamplesPerClass: 5 };
  const [plain] = splitProbeDatasets(examples, options, createRng(3), silentLogger);
  assert.deepEqual(plain.test.map((t) => t.length), [24, 12, 4]);
  assert.deepEqual(plain.deviations, []);
  const [enlarged] = splitProbeDatasets(examples, { ...options, minTestPerTask: 100 }, createRng(3), silentLogger);
  // share = 100 / 200 = 0.5 of every class.
  assert.deepEqual(enlarged.test.map((t) => t.length), [60, 30, 10]);
  assert.deepEqual(enlarged.train.map((t) => t.length), [60, 30, 10]);
  for (let c = 0; c < 3; c++) {
    assert.equal(new Set([...enlarged.train[c], ...enlarged.test[c]]).size, enlarged.train[c].length + enlarged.test[c].length, 'disjoint');
    assert.ok(plain.test[c].every((t) => enlarged.test[c].includes(t)), 'the corpus test split stays in test');
  }
  assert.match(enlarged.deviations.join(), /test_split_enlarged: 60 train texts moved to test \(40 -> 100 test texts; wanted 100\)/);
  const [short] = splitProbeDatasets(examples, { ...options, minTestPerTask: 150 }, createRng(3), silentLogger);
  assert.equal(short.test.flat().length, 100, 'never more than half');
  assert.match(short.deviations.join(), /test_texts_below_minimum: 100 of 150 wanted \(the task has 200 texts\)/);
});
