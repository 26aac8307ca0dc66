import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { badConfig, badInput } from '../../lib/core/errors.js';
import { listCorpusFiles } from './list-files.js';
import { readJsonlRecords } from './read-jsonl.js';
import { SkipLog } from './skip-log.js';

/** Labelled tasks for sparse probing, drawn from labels the demo corpus keeps in meta. */
export const PROBE_TASKS = ['source-set', 'spam', 'language', 'programming-language'] as const;
export type ProbeTask = (typeof PROBE_TASKS)[number];

export interface ProbeExample {
  task: ProbeTask | string;
  text: string;
  label: string;
  split: 'train' | 'test';
  /** "file:line" of the corpus document (or of the labelled file). */
  docId: string;
}

export interface ProbeTaskOptions {
  /** Share of documents in the test split, by document hash (default 0.2). */
  testFraction?: number;
  /** Keep at most this many examples per label and split, first by hash order (default 2000). */
  maxPerLabel?: number;
  /** Labels with fewer examples (train + test) are left out (default 40). */
  minPerLabel?: number;
  /** Keep the most frequent labels only (default 10; source-set and spam have fewer anyway). */
  maxLabels?: number;
  /** Texts are cut to this many characters; probes read 128 tokens (default 4000). */
  maxChars?: number;
}

function labelOf(task: ProbeTask, meta: Record<string, unknown>): string | null {
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : null);
  switch (task) {
    case 'source-set':
      return str(meta.pile_set_name);
    case 'spam':
      return typeof meta.spam === 'boolean' ? (meta.spam ? 'spam' : 'ham') : null;
    case 'language':
      return str(meta.language);
    case 'programming-language':
      return str(meta.programming_language);
  }
}

function hashUnit(text: string): { u: number; hex: string } {
  const hex = createHash('sha256').update('tsae-probe-v1\0').update(text).digest('hex');
  return { u: parseInt(hex.slice(0, 12), 16) / 2 ** 48, hex };
}

/**
 * The labelled examples of one probing task from a corpus in The Pile layout (the demo corpus
 * keeps meta.spam, meta.language, meta.programming_language): deterministic, with a train/test
 * split by document hash, classes capped for balance.
 */
export async function loadProbeTask(corpusPath: string, task: ProbeTask, options: ProbeTaskOptions = {}): Promise<ProbeExample[]> {
  if (!PROBE_TASKS.includes(task)) throw badConfig(`Unknown probe task '${task}'; allowed: ${PROBE_TASKS.join(', ')}`);
  const { files } = await listCorpusFiles(corpusPath, ['jsonl', 'jsonl.zst']);
  const found: (ProbeExample & { order: string })[] = [];
  for (const file of files) {
    const records = readJsonlRecords({
      path: file.path, relPath: file.relPath, compressed: file.format === 'jsonl.zst',
      textField: 'text', metaField: 'meta', maxDocChars: Number.MAX_SAFE_INTEGER, skips: new SkipLog('skip'),
    });
    for await (const r of records) {
      const label = labelOf(task, r.meta);
      if (label === null) continue;
      const { u, hex } = hashUnit(r.text);
      const split = u < (options.testFraction ?? 0.2) ? 'test' : 'train';
      found.push({ task, text: r.text.slice(0, options.maxChars ?? 4000), label, split, docId: r.location, order: hex });
    }
  }
  return balance(found, options);
}

function balance(found: (ProbeExample & { order: string })[], options: ProbeTaskOptions): ProbeExample[] {
  const counts = new Map<string, number>();
  for (const e of found) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  const labels = [...counts.entries()]
    .filter(([, n]) => n >= (options.minPerLabel ?? 40))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.maxLabels ?? 10)
    .map(([label]) => label);
  const kept = new Map<string, number>();
  const out: ProbeExample[] = [];
  for (const e of found.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))) {
    if (!labels.includes(e.label)) continue;
    const key = `${e.label}\0${e.split}`;
    const n = kept.get(key) ?? 0;
    if (n >= (options.maxPerLabel ?? 2000)) continue;
    kept.set(key, n + 1);
    out.push({ task: e.task, text: e.text, label: e.label, split: e.split, docId: e.docId });
  }
  return out;
}

/**
 * Reads a user's own labelled data (SAEBench-style datasets kept locally): JSON lines of
 * {"text": string, "label": string|number|boolean, "split"?: "train"|"test"}; rows without a
 * split get one by text hash.
 */
export async function readLabelledFile(path: string, task: string, testFraction = 0.2): Promise<ProbeExample[]> {
  const out: ProbeExample[] = [];
  let line = 0;
  for await (const raw of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    line += 1;
    if (raw.trim() === '') continue;
    let value: { text?: unknown; label?: unknown; split?: unknown };
    try {
      value = JSON.parse(raw) as typeof value;
    } catch {
      throw badInput(`${path}:${line}: not a JSON object; expected {"text": ..., "label": ...}`, { file: path, line });
    }
    if (typeof value.text !== 'string' || !['string', 'number', 'boolean'].includes(typeof value.label)) {
      throw badInput(`${path}:${line}: needs a string "text" and a string, number or boolean "label"`, { file: path, line });
    }
    const split = value.split === 'train' || value.split === 'test' ? value.split : hashUnit(value.text).u < testFraction ? 'test' : 'train';
    out.push({ task, text: value.text, label: String(value.label), split, docId: `${path}:${line}` });
  }
  return out;
}
