import type { CorruptDataReport, Split, TokenFileEntry } from '../../schemas/corpus.js';
import { SPLITS } from '../../schemas/corpus.js';
import type { TokenRow } from '../../schemas/token-shard.js';
import type { PackerState } from './row-packer.js';

/** Running counts of one shard; plain data so a checkpoint can carry it. */
export interface ShardCounts {
  tokenized: number;
  docsBySplit: Record<Split, number>;
  rowsBySplit: Record<Split, number>;
  tokensBySplit: Record<Split, number>;
  tokensBySourceSet: Record<string, number>;
  tokensTotal: number;
  dropped: number;
  nextRowId: number;
}

export function emptyCounts(): ShardCounts {
  const zero = () => Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<Split, number>;
  return {
    tokenized: 0,
    docsBySplit: zero(),
    rowsBySplit: zero(),
    tokensBySplit: zero(),
    tokensBySourceSet: {},
    tokensTotal: 0,
    dropped: 0,
    nextRowId: 0,
  };
}

/** A row as JSON (typed arrays become number arrays). */
export interface RowJson extends Omit<TokenRow, 'inputIds' | 'specialMask'> {
  inputIds: number[];
  specialMask: number[];
}

export function rowToJson(row: TokenRow): RowJson {
  return { ...row, inputIds: Array.from(row.inputIds), specialMask: Array.from(row.specialMask) };
}

export function rowFromJson(row: RowJson): TokenRow {
  return { ...row, inputIds: Int32Array.from(row.inputIds), specialMask: Uint8Array.from(row.specialMask) };
}

/**
 * Everything needed to continue a shard exactly where a finished token file left it: written
 * files (with hashes), the last record consumed, rows not yet written, the packers' unfinished
 * rows, the counts, skips and corrupt data. Continuing from it yields byte-identical files.
 */
export interface ShardCheckpoint {
  schemaVersion: 2;
  inputDigest: string;
  files: TokenFileEntry[];
  /** Line (JSON lines) or row (Parquet) of the last record consumed; -1 before the first. */
  lastLine: number;
  pendingRows: RowJson[];
  packers: Record<Split, PackerState>;
  counts: ShardCounts;
  skips: Record<string, { count: number; locations: string[]; truncated: boolean }>;
  /** Corrupt data met so far (a Parquet shard goes on past a bad row group, so it must survive a resume). */
  corrupt: CorruptDataReport[];
}
