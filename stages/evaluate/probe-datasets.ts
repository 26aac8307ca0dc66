import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Logger } from '../../lib/core/logger.js';
import { badInput } from '../../lib/core/errors.js';
import type { ProbeExample } from './interfaces.js';
import { shuffled, type Rng } from './random.js';

/**
 * Probing datasets: SAEBench-style (text, label) files, and the split of labelled examples into
 * per-class train / test pools.
 */

/**
 * Reads a (text, label) file: `.jsonl` (one `{"text", "label"[, "task"]}` object a line) or
 * `.csv` (a header row naming `text` and `label` columns, RFC 4180 quoting). The task is the
 * row's `task` field, else `task`, else the file name without extension.
 */
export async function loadLabelledTextFile(path: string, task?: string): Promise<ProbeExample[]> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.csv') {
    throw badInput(`${path}: unsupported probe file extension "${ext}"; allowed: .jsonl, .csv`, { path });
  }
  const body = await readFile(path, 'utf8');
  const fallbackTask = task ?? basename(path, extname(path));
  if (ext === '.jsonl') return parseJsonl(body, path, fallbackTask);
  return parseLabelledCsv(body, path, fallbackTask);
}

export function parseJsonl(body: string, path: string, task: string): ProbeExample[] {
  const out: ProbeExample[] = [];
  body.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw badInput(`${path}:${index + 1}: not valid JSON (${(error as Error).message})`, { path, line: index + 1 });
    }
    out.push(toExample(row as Record<string, unknown>, path, index + 1, task));
  });
  return out;
}

export function parseLabelledCsv(body: string, path: string, task: string): ProbeExample[] {
  const records = parseCsv(body);
  if (records.length === 0) throw badInput(`${path}: empty CSV; expected a header with text,label`, { path });
  const header = records[0].map((h) => h.trim().toLowerCase());
  const columns = { text: header.indexOf('text'), label: header.indexOf('label'), task: header.indexOf('task') };
  if (columns.text < 0 || columns.label < 0) {
    throw badInput(`${path}:1: CSV header must name "text" and "label" columns, got ${header.join(',')}`, { path });
  }
  return records.slice(1).filter((r) => r.length > 1 || r[0] !== '').map((r, i) =>
    toExample({ text: r[columns.text], label: r[columns.label], task: columns.task >= 0 ? r[columns.task] : undefined }, path, i + 2, task),
  );
}

function toExample(row: Record<string, unknown>, path: string, line: number, task: string): ProbeExample {
  const { text, label } = row;
  if (typeof text !== 'string') throw badInput(`${path}:${line}: field "text" must be a string`, { path, line });
  if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') {
    throw badInput(`${path}:${line}: field "label" must be a string, number or boolean`, { path, line });
  }
  const rowTask = typeof row.task === 'string' && row.task !== '' ? row.task : task;
  return { text, label: String(label), task: rowTask };
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(body: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) record.push(field), records.push(record);
  return records;
}

/** One probing task split into per-class pools. */
export interface ProbeDataset {
  task: string;
  classes: string[];
  /** Per class (same order as `classes`), the texts of its train / test pools. */
  train: string[][];
  test: string[][];
  /** Departures from the requested sizes (test split enlarged, too few test texts). */
  deviations: string[];
}

export interface SplitOptions {
  /** Max train examples per class (SAEBench: probe_train_set_size / 2). */
  trainPerClass: number;
  /** Max test examples per class (SAEBench: probe_test_set_size / 2). */
  testPerClass: number;
  /** Classes with fewer examples are dropped (logged). */
  minExamplesPerClass: number;
  /** Wanted test texts per task (all classes); below it train texts move to test. 0: off. */
  minTestPerTask?: number;
}

/** Train texts moved to test never take a class's test pool above this share of its texts. */
export const MAX_TEST_SHARE = 0.5;

/**
 * Groups examples by task and label and shuffles each class with `rng`. Examples that carry a
 * split keep it; for the others the test pool comes first (at most a fifth of the class), then
 * the train pool. Pools are capped per class; tasks left with < 2 classes are dropped.
 */
export function splitProbeDatasets(examples: Iterable<ProbeExample>, options: SplitOptions, rng: Rng, log: Logger): ProbeDataset[] {
  const byTask = new Map<string, Map<string, ProbeExample[]>>();
  for (const e of examples) {
    const classes = byTask.get(e.task) ?? new Map<string, ProbeExample[]>();
    classes.set(e.label, [...(classes.get(e.label) ?? []), e]);
    byTask.set(e.task, classes);
  }
  const out: ProbeDataset[] = [];
  for (const task of [...byTask.keys()].sort()) {
    const kept: { label: string; items: ProbeExample[] }[] = [];
    for (const label of [...byTask.get(task)!.keys()].sort()) {
      const items = shuffled(byTask.get(task)!.get(label)!, rng);
      if (items.length < options.minExamplesPerClass) {
        log.warn('probe class dropped: too few examples', { task, label, examples: items.length, minimum: options.minExamplesPerClass });
        continue;
      }
      kept.push({ label, items });
    }
    const dataset = taskPools(task, kept, options, log);
    if (dataset.classes.length >= 2) out.push(dataset);
    else log.warn('probe task dropped: fewer than two classes', { task, classes: dataset.classes.length });
  }
  return out;
}

/**
 * A task's pools. When its test pools hold fewer than minTestPerTask texts, every class moves
 * train texts to test until its test pool is the same share s of its texts, with s the share
 * that would reach the minimum (at most MAX_TEST_SHARE); the departure is recorded.
 */
function taskPools(task: string, kept: { label: string; items: ProbeExample[] }[], options: SplitOptions, log: Logger): ProbeDataset {
  const wanted = options.minTestPerTask ?? 0;
  let pools = kept.map((k) => classPools(k.items, options, 0));
  const testTotal = (p: typeof pools) => p.reduce((a, c) => a + c.test.length, 0);
  const deviations: string[] = [];
  const before = testTotal(pools);
  if (before < wanted) {
    const available = kept.reduce((a, k) => a + k.items.length, 0);
    const share = Math.min(MAX_TEST_SHARE, wanted / Math.max(available, 1));
    pools = kept.map((k) => classPools(k.items, options, share));
    const after = testTotal(pools);
    if (after > before) deviations.push(`test_split_enlarged: ${after - before} train texts moved to test (${before} -> ${after} test texts; wanted ${wanted})`);
    if (after < wanted) deviations.push(`test_texts_below_minimum: ${after} of ${wanted} wanted (the task has ${available} texts)`);
  }
  const dataset: ProbeDataset = { task, classes: [], train: [], test: [], deviations };
  pools.forEach(({ train, test }, c) => {
    if (train.length === 0 || test.length === 0) {
      log.warn('probe class dropped: empty train or test split', { task, label: kept[c].label, train: train.length, test: test.length });
      return;
    }
    dataset.classes.push(kept[c].label);
    dataset.train.push(train);
    dataset.test.push(test);
  });
  return dataset;
}

/**
 * One class's pools: fixed splits kept, at most a fifth of the free examples to test; then
 * train texts move to test (from the end of the train order) until test holds `minTestShare`
 * of the class; both capped.
 */
function classPools(items: ProbeExample[], options: SplitOptions, minTestShare: number): { train: string[]; test: string[] } {
  const fixed = items.filter((e) => e.split);
  const free = items.filter((e) => !e.split).map((e) => e.text);
  const testFree = Math.min(options.testPerClass, Math.floor(free.length / 5));
  const test = [...fixed.filter((e) => e.split === 'test').map((e) => e.text), ...free.slice(0, testFree)];
  const train = [...fixed.filter((e) => e.split === 'train').map((e) => e.text), ...free.slice(testFree)];
  const need = Math.min(options.testPerClass, Math.ceil(minTestShare * items.length)) - test.length;
  if (need > 0) test.push(...train.splice(train.length - Math.min(need, train.length)));
  return { train: train.slice(0, options.trainPerClass), test: test.slice(0, options.testPerClass) };
}
