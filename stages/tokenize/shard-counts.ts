import type { Split, TokenizeShardCounts, TokenizeShardSummary } from '../../schemas/corpus.js';
import { SPLITS } from '../../schemas/corpus.js';

/**
 * The counts of a shard manifest, for the workflow: a fixed, small size whatever the shard held
 * (a manifest keeps up to 1,000 skip locations per reason and every corrupt-data report; those
 * stay in shard-manifest.json, which extraction and the report read from disk).
 */
export function tokenizeShardCounts(manifest: TokenizeShardSummary): TokenizeShardCounts {
  const bySplit = (record: Record<string, number>) => Object.fromEntries(SPLITS.map((s) => [s, record[s] ?? 0])) as Record<Split, number>;
  return {
    shard: manifest.shard.id,
    files: manifest.files.length,
    documents: { read: manifest.documents.read, tokenized: manifest.documents.tokenized, skipped: manifest.documents.skipped },
    skipsByReason: Object.fromEntries(Object.entries(manifest.skips).map(([reason, report]) => [reason, report.count])),
    corrupt: manifest.corrupt.length,
    rowsBySplit: bySplit(manifest.rows),
    tokens: manifest.tokens.total,
    tokensBySplit: bySplit(manifest.tokens.bySplit),
    stoppedEarly: manifest.stoppedEarly,
  };
}
