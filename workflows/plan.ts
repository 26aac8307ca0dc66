/**
 * Pure planning functions used by the workflows (deterministic: no I/O, no clocks, no random).
 */
import { trainBudget } from '../schemas/derived.js';
import type { RunSpec } from '../schemas/run-spec.js';

/** Characters per token assumed when sizing tokenization waves (English-ish text). */
const CHARS_PER_TOKEN = 4;
/** zstd text compresses about this much (jsonl.zst plans report compressed bytes). */
const ZSTD_RATIO = 3;
/** Shards planned beyond the size estimate, so one wave usually meets the budgets. */
const WAVE_MARGIN = 1.25;

export interface TokenTotals {
  train: number;
  test: number;
}

/** True when the tokenized shards cover both budgets. */
export function budgetsMet(totals: TokenTotals, spec: Pick<RunSpec, 'tokens' | 'sae'>): boolean {
  return totals.train >= trainBudget(spec) && totals.test >= spec.tokens.eval;
}

/**
 * How many more corpus shards to tokenize before checking the budgets again: enough for what is
 * still missing by a size estimate (honouring a per-shard token cap), at least 1. Concurrency
 * is bounded separately (the fan-out window), so a wave may be large.
 */
export function tokenizeWaveSize(plan: { meanBytes: number; compressedShare: number }, totals: TokenTotals, spec: Pick<RunSpec, 'tokens' | 'tokenize' | 'corpus' | 'sae'>): number {
  const bytes = plan.meanBytes * (1 + plan.compressedShare * (ZSTD_RATIO - 1));
  const cap = spec.corpus.limits.maxTokensPerShard ?? Infinity;
  const tokensPerShard = Math.max(1, Math.min(cap, bytes / CHARS_PER_TOKEN));
  const missingTrain = Math.max(0, trainBudget(spec) - totals.train) / Math.max(spec.tokenize.splits.train, 1e-9);
  const missingTest = Math.max(0, spec.tokens.eval - totals.test) / Math.max(spec.tokenize.splits.test, 1e-9);
  return Math.max(1, Math.ceil((WAVE_MARGIN * Math.max(missingTrain, missingTest)) / tokensPerShard));
}

/**
 * How a fan-out over [start, end) splits: a leaf runs its units itself; a branch hands
 * contiguous ranges to at most `batch` child workflows, each at most `batch`^depth units, so
 * every workflow's history is bounded by `batch` whatever the plan's size.
 */
export function splitRange(start: number, end: number, batch: number): { start: number; end: number }[] | null {
  const n = end - start;
  if (n <= batch) return null;
  let span = batch;
  while (span * batch < n) span *= batch;
  const ranges: { start: number; end: number }[] = [];
  for (let from = start; from < end; from += span) ranges.push({ start: from, end: Math.min(end, from + span) });
  return ranges;
}
