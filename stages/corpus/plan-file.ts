/**
 * A corpus plan as an artifact: corpus-plan.jsonl (one shard plan per line, in plan order) and
 * corpus-plan.json (counts, a hash and a sparse line index). The workflow keeps the small summary
 * and asks for slices, so neither its history nor an activity payload grows with the shard count
 * (Temporal caps a payload at 2 MB and a workflow task at 4 MB; a plan of 100k cut .jsonl shards
 * is about 40 MB).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorpusPlanSummary, CorpusShardPlan } from '../../schemas/corpus.js';
import { sha256Hex, writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';
import { readPlainChunks } from './decoded-chunks.js';
import { splitLines } from './split-lines.js';

export const CORPUS_PLAN_FILE = 'corpus-plan.jsonl';
export const CORPUS_PLAN_SUMMARY_FILE = 'corpus-plan.json';
const INDEX_EVERY = 1024;

/** Writes the plan files into dir (atomically, plan first) and returns the summary. */
export async function writeCorpusPlan(plans: readonly CorpusShardPlan[], dir: string): Promise<CorpusPlanSummary> {
  const lines: string[] = [];
  const index: number[] = [];
  const formats: CorpusPlanSummary['formats'] = {};
  const partsOfFile = new Map<string, number>();
  for (const plan of plans) partsOfFile.set(plan.file, (partsOfFile.get(plan.file) ?? 0) + 1);
  let offset = 0;
  plans.forEach((plan, i) => {
    if (plan.index !== i) throw new TsaeError('INTERNAL', `corpus plan: shard ${plan.id} has index ${plan.index} at position ${i}`);
    if (i % INDEX_EVERY === 0) index.push(offset);
    const line = JSON.stringify(plan) + '\n';
    lines.push(line);
    offset += Buffer.byteLength(line);
    const entry = (formats[plan.format] ??= { shards: 0, bytes: 0 });
    entry.shards += 1;
    entry.bytes += shardBytes(plan, partsOfFile.get(plan.file) ?? 1);
  });
  const text = lines.join('');
  await writeFileAtomic(join(dir, CORPUS_PLAN_FILE), text);
  const summary: CorpusPlanSummary = { schemaVersion: 1, shards: plans.length, formats, sha256: sha256Hex(text), index, indexEvery: INDEX_EVERY };
  await writeJsonAtomic(join(dir, CORPUS_PLAN_SUMMARY_FILE), summary);
  return summary;
}

/** Bytes of the file a shard covers: its range for cut .jsonl, else an equal share of the file. */
function shardBytes(plan: CorpusShardPlan, parts: number): number {
  if (plan.byteStart !== undefined && plan.byteEnd !== undefined) return plan.byteEnd - plan.byteStart;
  return plan.bytes / parts;
}

export async function readCorpusPlanSummary(dir: string): Promise<CorpusPlanSummary> {
  const path = join(dir, CORPUS_PLAN_SUMMARY_FILE);
  const text = await readFile(path, 'utf8').catch((e: Error) => corrupt(path, e.message));
  const parsed = CorpusPlanSummary.safeParse(parseJson(text));
  if (!parsed.success) corrupt(path, parsed.error.issues[0].message);
  return parsed.data;
}

/**
 * Shards [start, start + count) of the plan in dir (fewer at the end, none past it). Reads from
 * the nearest index entry, so a slice costs at most indexEvery lines more than it returns.
 */
export async function readCorpusPlanSlice(dir: string, start: number, count: number): Promise<CorpusShardPlan[]> {
  const summary = await readCorpusPlanSummary(dir);
  const end = Math.min(summary.shards, start + count);
  if (start < 0 || !Number.isInteger(start) || !Number.isInteger(count)) throw new TsaeError('INTERNAL', `corpus plan slice (${start}, ${count}) is not a range`);
  if (start >= end) return [];
  const path = join(dir, CORPUS_PLAN_FILE);
  const block = Math.floor(start / summary.indexEvery);
  const out: CorpusShardPlan[] = [];
  let i = block * summary.indexEvery;
  for await (const line of splitLines(readPlainChunks(path, { start: summary.index[block] }))) {
    if (i >= start) {
      const parsed = CorpusShardPlan.safeParse(parseJson(line.bytes.toString('utf8')));
      if (!parsed.success || parsed.data.index !== i) corrupt(path, `line ${i + 1} is not shard ${i} of the plan`);
      out.push(parsed.data);
    }
    if (++i >= end) break;
  }
  if (out.length !== end - start) corrupt(path, `it ends after ${i} shards; the summary says ${summary.shards}`);
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function corrupt(path: string, why: string): never {
  throw new TsaeError('CORRUPT_ARTIFACT', `Corpus plan file ${path} is damaged: ${why}; plan the corpus again`, { details: { file: path } });
}
