/**
 * Pure planning functions used by the workflows (deterministic: no I/O, no clocks, no random).
 */
import type { ExtractUnit, StageResult, TokenShardSummary } from '../schemas/pipeline.js';
import type { RunSpec } from '../schemas/run-spec.js';

/**
 * Splits the tokenized corpus into extraction units: training rows from the `train` split until
 * the training token budget is met, held-out rows from the `test` split until the eval budget
 * is met; each unit at most `extract.rowsPerShard` rows.
 */
export function planExtraction(shards: StageResult<TokenShardSummary>[], spec: RunSpec): ExtractUnit[] {
  return [
    ...takeRows(shards, 'train', 'train', spec.tokens.train, spec.extract.rowsPerShard),
    ...takeRows(shards, 'test', 'eval', spec.tokens.eval, spec.extract.rowsPerShard),
  ];
}

function takeRows(
  shards: StageResult<TokenShardSummary>[],
  split: ExtractUnit['split'],
  purpose: ExtractUnit['purpose'],
  tokenBudget: number,
  rowsPerUnit: number,
): ExtractUnit[] {
  const units: ExtractUnit[] = [];
  let tokens = 0;
  for (const shard of shards) {
    const rows = shard.summary.rowsBySplit[split];
    if (rows === 0) continue;
    const tokensPerRow = shard.summary.tokensBySplit[split] / rows;
    for (let start = 0; start < rows && tokens < tokenBudget; start += rowsPerUnit) {
      const wanted = Math.ceil((tokenBudget - tokens) / tokensPerRow);
      const end = Math.min(rows, start + rowsPerUnit, start + wanted);
      units.push({ tokenShard: shard.ref, split, rowStart: start, rowEnd: end, purpose });
      tokens += (end - start) * tokensPerRow;
    }
    if (tokens >= tokenBudget) break;
  }
  return units;
}

/** Tokens available so far for a split, to decide whether more corpus shards are needed. */
export function tokensAvailable(shards: StageResult<TokenShardSummary>[], split: ExtractUnit['split']): number {
  return shards.reduce((sum, s) => sum + s.summary.tokensBySplit[split], 0);
}

/** True when the tokenized shards cover both budgets. */
export function budgetsMet(shards: StageResult<TokenShardSummary>[], spec: RunSpec): boolean {
  return tokensAvailable(shards, 'train') >= spec.tokens.train && tokensAvailable(shards, 'test') >= spec.tokens.eval;
}

/** Characters per token assumed when sizing tokenization waves (English-ish text). */
const CHARS_PER_TOKEN = 4;
/** zstd text compresses about this much (jsonl.zst plans report compressed bytes). */
const ZSTD_RATIO = 3;

/**
 * How many corpus shards to tokenize at once before checking the budgets again: enough for the
 * budgets by a size estimate (honouring a per-shard token cap), at least 1, at most 8.
 */
export function tokenizeWaveSize(plans: { bytes: number; format: string }[], spec: RunSpec): number {
  if (plans.length === 0) return 1;
  const bytes = plans.reduce((s, p) => s + p.bytes * (p.format === 'jsonl.zst' ? ZSTD_RATIO : 1), 0) / plans.length;
  const cap = spec.corpus.limits.maxTokensPerShard ?? Infinity;
  const tokensPerShard = Math.max(1, Math.min(cap, bytes / CHARS_PER_TOKEN));
  const needed = Math.max(spec.tokens.train / spec.tokenize.splits.train, spec.tokens.eval / Math.max(spec.tokenize.splits.test, 1e-9));
  return Math.min(8, Math.max(1, Math.ceil(needed / tokensPerShard)));
}
