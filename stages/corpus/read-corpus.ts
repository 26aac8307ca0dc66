import type { CorpusShardPlan } from '../../schemas/corpus.js';
import type { TsaeError } from '../../lib/core/errors.js';
import type { CorpusRecord } from './corpus-record.js';
import { readJsonlRecords } from './read-jsonl.js';
import { readParquetRecords } from './read-parquet.js';
import type { SkipLog } from './skip-log.js';

export interface ShardReadOptions {
  textField: string;
  metaField: string;
  maxDocChars: number;
  skips: SkipLog;
  /** Resume point: records at or before this line (JSON lines) / before this row (Parquet) are passed over. */
  resumeAfter?: number;
  onSourceOffset?: (offset: number) => void;
  /** Corrupt compressed data (see readJsonlRecords / readParquetRecords); absent: the error propagates. */
  onCorrupt?: (error: TsaeError) => void;
}

/** Streams the usable records of one planned shard, whatever its format. */
export function readShardRecords(shard: CorpusShardPlan, options: ShardReadOptions): AsyncGenerator<CorpusRecord> {
  const common = {
    path: shard.file,
    relPath: shard.relPath,
    textField: options.textField,
    metaField: options.metaField,
    maxDocChars: options.maxDocChars,
    skips: options.skips,
    onSourceOffset: options.onSourceOffset,
    onCorrupt: options.onCorrupt,
  };
  if (shard.format === 'parquet') {
    return readParquetRecords({
      ...common,
      rowStart: shard.rowStart,
      rowEnd: shard.rowEnd,
      skipBeforeRow: options.resumeAfter === undefined ? undefined : options.resumeAfter + 1,
    });
  }
  return readJsonlRecords({
    ...common,
    compressed: shard.format === 'jsonl.zst',
    range: shard.format === 'jsonl' ? { start: shard.byteStart, end: shard.byteEnd } : undefined,
    firstLine: shard.firstLine,
    skipThroughLine: options.resumeAfter,
  });
}
