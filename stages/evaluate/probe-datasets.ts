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
}

export interface SplitOptions {
  /** Max train examples per class (SAEBench: probe_train_set_size / 2). */
  trainPerClass: number;
  /** Max test examples per class (SAEBench: probe_test_set_size / 2). */
  testPerClass: number;
  /** Classes with fewer examples are dropped (logged). */
  minExamplesPerClass: number;
}

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
    const dataset: ProbeDataset = { task, classes: [], train: [], test: [] };
    for (const label of [...byTask.get(task)!.keys()].sort()) {
      const items = shuffled(byTask.get(task)!.get(label)!, rng);
      if (items.length < options.minExamplesPerClass) {
        log.warn('probe class dropped: too few examples', { task, label, examples: items.length, minimum: options.minExamplesPerClass });
        continue;
      }
      const { train, test } = classPools(items, options);
      if (train.length === 0 || test.length === 0) {
        log.warn('probe class dropped: empty train or test split', { task, label, train: train.length, test: test.length });
        continue;
      }
      dataset.classes.push(label);
      dataset.train.push(train);
      dataset.test.push(test);
    }
    if (dataset.classes.length >= 2) out.push(dataset);
    else log.warn('probe task dropped: fewer than two classes', { task, classes: dataset.classes.length });
  }
  return out;
}

function classPools(items: ProbeExample[], options: SplitOptions): { train: string[]; test: string[] } {
  const fixed = items.filter((e) => e.split);
  const free = items.filter((e) => !e.split).map((e) => e.text);
  const testFree = Math.min(options.testPerClass, Math.floor(free.length / 5));
  const test = [...fixed.filter((e) => e.split === 'test').map((e) => e.text), ...free.slice(0, testFree)];
  const train = [...fixed.filter((e) => e.split === 'train').map((e) => e.text), ...free.slice(testFree)];
  return { train: train.slice(0, options.trainPerClass), test: test.slice(0, options.testPerClass) };
}
