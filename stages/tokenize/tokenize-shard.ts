import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorpusConfigInput, CorpusShardPlan, CorruptDataReport, Split, TokenizeConfig, TokenizeConfigInput, TokenizeShardSummary } from '../../schemas/corpus.js';
import { CorpusConfig, SPLITS, TokenizeConfig as TokenizeConfigSchema } from '../../schemas/corpus.js';
import type { TokenRow } from '../../schemas/token-shard.js';
import { canonicalJson, sha256Hex, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { badConfig, type TsaeError } from '../../lib/core/errors.js';
import { sourceSetOf } from '../corpus/corpus-record.js';
import { readShardRecords } from '../corpus/read-corpus.js';
import { SkipLog } from '../corpus/skip-log.js';
import { assignSplit } from './assign-split.js';
import type { TextTokenizer } from './load-tokenizer.js';
import { RowPacker } from './row-packer.js';
import { CHECKPOINT_FILE, loadCheckpoint, readFinishedManifest, SHARD_FORMAT_VERSION, SHARD_MANIFEST_FILE, tokenFileName } from './shard-files.js';
import { emptyCounts, rowFromJson, rowToJson, type ShardCheckpoint, type ShardCounts } from './shard-state.js';
import { writeTokenShard } from './token-shard.js';

export { CHECKPOINT_FILE, SHARD_MANIFEST_FILE, tokenFileName };
const PROGRESS_INTERVAL_MS = 500;

export interface TokenizeShardInput {
  shard: CorpusShardPlan;
  tokenizer: TextTokenizer;
  config?: TokenizeConfigInput;
  /** The corpus config: its fields, bad-input policy and limits apply (its path does not). */
  corpus?: Partial<CorpusConfigInput>;
  /**
   * Embedding rows of the model the tokens are for. When set, a document that encodes to an id
   * at or above it (a tokenizer's extra added token written literally in the text, such as Gemma
   * 3's "<image_soft_token>" = 262144 with a 262144-row model) is bad input (token-out-of-range)
   * instead of a crash in the model's embedding Gather during extraction.
   */
  modelVocabSize?: number;
}

/** Record-reading settings of a corpus config, with defaults. */
function readingConfig(corpus: Partial<CorpusConfigInput> | undefined) {
  const parsed = CorpusConfig.parse({ path: '.', ...corpus });
  return { textField: parsed.textField, metaField: parsed.metaField, badInput: parsed.badInput, limits: parsed.limits };
}

/**
 * Tokenizes one planned corpus shard into Parquet token files plus shard-manifest.json in outDir.
 * Resumable: after each finished token file a checkpoint records the exact state, and a retry
 * continues from it (verifying earlier files by hash), so output is byte-identical to an
 * uninterrupted run. A finished shard (valid manifest for the same inputs) is returned as is.
 * Corrupt compressed data ends the shard with a non-retryable BAD_INPUT error under badInput
 * 'fail'; under 'skip' it is recorded in the manifest's `corrupt` list and reading goes on
 * where it can (the next Parquet row group; a zstd stream ends there).
 */
export async function tokenizeShard(input: TokenizeShardInput, outDir: string, ctx: StageContext): Promise<TokenizeShardSummary> {
  const config = TokenizeConfigSchema.parse(input.config ?? {});
  const corpus = readingConfig(input.corpus);
  checkSpecialIdsFit(input, config);
  const modelVocabSize = input.modelVocabSize ?? null;
  const inputDigest = sha256Hex(canonicalJson({ shard: input.shard, tokenizer: input.tokenizer.sha256, fast: input.tokenizer.fastSplit, config, corpus, modelVocabSize }));
  const done = await readFinishedManifest(outDir, inputDigest);
  if (done) return done;
  const checkpoint = await loadCheckpoint(outDir, inputDigest, ctx);
  const run = new ShardRun(input, config, corpus, inputDigest, outDir, ctx, checkpoint);
  const stoppedEarly = await run.consume();
  const summary = await run.finish(stoppedEarly);
  await writeJsonAtomic(join(outDir, SHARD_MANIFEST_FILE), summary);
  await rm(join(outDir, CHECKPOINT_FILE), { force: true });
  ctx.log.info('tokenized shard', { shard: input.shard.id, rows: summary.files.reduce((a, f) => a + f.rows, 0), tokens: summary.tokens.total, corrupt: summary.corrupt.length });
  return summary;
}

/** BOS/EOS are inserted by the packer, not read from text: one out of range would break every row. */
function checkSpecialIdsFit(input: TokenizeShardInput, config: TokenizeConfig): void {
  const vocab = input.modelVocabSize;
  if (vocab === undefined) return;
  const tok = input.tokenizer;
  const used = [
    ['BOS', tok.bosId, config.bos === 'always' || (config.bos === 'auto' && tok.addBos) || config.docBoundary === 'bos'],
    ['EOS', tok.eosId, config.docBoundary === 'eos'],
  ] as const;
  for (const [name, id, inUse] of used) {
    if (inUse && id !== null && id >= vocab) {
      throw badConfig(`tokenize.tokenizer: ${tok.name}'s ${name} id ${id} is outside the model's vocabulary of ${vocab} (model.source); use the model's own tokenizer`, {
        fields: ['tokenize.tokenizer', 'model.source'],
      });
    }
  }
}

type ReadingConfig = ReturnType<typeof readingConfig>;

/** One attempt at a shard: the record loop, token-file writes and checkpoints. */
class ShardRun {
  private readonly skips: SkipLog;
  private readonly packers: Record<Split, RowPacker>;
  private readonly counts: ShardCounts;
  private readonly files: ShardCheckpoint['files'];
  private readonly corrupt: CorruptDataReport[];
  private pending: TokenRow[];
  private lastLine: number;
  private sourceOffset = 0;
  private lastProgress = 0;

  constructor(
    private readonly input: TokenizeShardInput,
    private readonly config: TokenizeConfig,
    private readonly corpus: ReadingConfig,
    private readonly inputDigest: string,
    private readonly outDir: string,
    private readonly ctx: StageContext,
    checkpoint: ShardCheckpoint | null,
  ) {
    const tok = input.tokenizer;
    const addBos = config.bos === 'always' || (config.bos === 'auto' && tok.addBos);
    const options = {
      mode: config.packing,
      contextLength: config.contextLength,
      rowStartId: addBos ? tok.bosId : null,
      docStartId: config.docBoundary === 'bos' ? tok.bosId : null,
      docEndId: config.docBoundary === 'eos' ? tok.eosId : null,
      specialIds: tok.specialIds,
    };
    this.packers = Object.fromEntries(SPLITS.map((s) => [s, new RowPacker(s, options, checkpoint?.packers[s])])) as Record<Split, RowPacker>;
    this.skips = new SkipLog(corpus.badInput, checkpoint?.skips);
    this.counts = checkpoint ? structuredClone(checkpoint.counts) : emptyCounts();
    this.files = checkpoint ? [...checkpoint.files] : [];
    this.pending = checkpoint ? checkpoint.pendingRows.map(rowFromJson) : [];
    this.lastLine = checkpoint?.lastLine ?? -1;
    this.corrupt = checkpoint ? [...checkpoint.corrupt] : [];
  }

  /** Reads and tokenizes records until the shard or a limit ends; returns the limit that ended it. */
  async consume(): Promise<TokenizeShardSummary['stoppedEarly']> {
    const { limits } = this.corpus;
    const records = readShardRecords(this.input.shard, {
      ...this.corpus,
      maxDocChars: limits.maxDocChars,
      skips: this.skips,
      resumeAfter: this.lastLine >= 0 ? this.lastLine : undefined,
      onSourceOffset: (offset) => (this.sourceOffset = offset),
      onCorrupt: (error) => this.recordCorrupt(error),
    });
    for await (const record of records) {
      throwIfAborted(this.ctx.signal);
      if (limits.maxDocsPerShard !== undefined && this.counts.tokenized >= limits.maxDocsPerShard) return 'maxDocsPerShard';
      if (limits.maxTokensPerShard !== undefined && this.counts.tokensTotal >= limits.maxTokensPerShard) return 'maxTokensPerShard';
      this.addDocument(record.text, record.location, sourceSetOf(record.meta));
      this.lastLine = record.line;
      while (this.pending.length >= this.config.rowsPerFile) await this.writeFile(this.pending.splice(0, this.config.rowsPerFile), true);
      this.reportProgress(false);
    }
    return null;
  }

  /** Under 'fail' the decoder's error (file, byte offset) ends the shard; under 'skip' it is recorded. */
  private recordCorrupt(error: TsaeError): void {
    if (this.corpus.badInput === 'fail') throw error;
    const details = error.details as { reason: CorruptDataReport['reason']; byteOffset: number; rows?: [number, number] };
    const shard = this.input.shard;
    const report: CorruptDataReport = {
      file: shard.relPath,
      reason: details.reason,
      byteOffset: details.byteOffset,
      documentsKept: this.counts.tokenized,
      lastLocation: this.lastLine < 0 ? null : `${shard.relPath}${shard.format === 'parquet' ? '#' : ':'}${this.lastLine}`,
      rowsLost: details.rows ?? null,
      message: error.message,
    };
    this.corrupt.push(report);
    this.ctx.log.warn('corrupt corpus data skipped (badInput: skip)', { ...report, message: undefined });
  }

  private addDocument(text: string, id: string, sourceSet: string): void {
    const tokens = this.input.tokenizer.encode(text);
    const vocab = this.input.modelVocabSize;
    if (vocab !== undefined) {
      const at = tokens.findIndex((t) => t >= vocab);
      if (at >= 0) {
        const piece = this.input.tokenizer.decode([tokens[at]]);
        this.skips.record('token-out-of-range', id, `token ${tokens[at]} ${JSON.stringify(piece)} >= model vocabulary ${vocab}`);
        return;
      }
    }
    const split = assignSplit(text, this.config.splitSalt, this.config.splits);
    const { rows, dropped } = this.packers[split].add({ id, sourceSet, tokens });
    const c = this.counts;
    c.tokenized += 1;
    c.docsBySplit[split] += 1;
    c.dropped += dropped;
    c.tokensBySourceSet[sourceSet] = (c.tokensBySourceSet[sourceSet] ?? 0) + tokens.length - dropped;
    for (const row of rows) this.pushRow(row);
  }

  private pushRow(row: Omit<TokenRow, 'rowId'>): void {
    const c = this.counts;
    this.pending.push({ rowId: c.nextRowId++, ...row });
    c.rowsBySplit[row.split] += 1;
    c.tokensBySplit[row.split] += row.inputIds.length;
    c.tokensTotal += row.inputIds.length;
  }

  private async writeFile(rows: TokenRow[], checkpoint: boolean): Promise<void> {
    const name = tokenFileName(this.files.length);
    const { sha256 } = await writeTokenShard(join(this.outDir, name), rows, { rowGroupRows: this.config.rowGroupRows });
    const tokens = rows.reduce((a, r) => a + r.inputIds.length, 0);
    this.files.push({ path: name, rows: rows.length, tokens, firstRowId: rows[0].rowId, sha256 });
    if (checkpoint) await writeJsonAtomic(join(this.outDir, CHECKPOINT_FILE), this.checkpoint());
  }

  private checkpoint(): ShardCheckpoint {
    return {
      schemaVersion: SHARD_FORMAT_VERSION,
      inputDigest: this.inputDigest,
      files: this.files,
      lastLine: this.lastLine,
      pendingRows: this.pending.map(rowToJson),
      packers: Object.fromEntries(SPLITS.map((s) => [s, this.packers[s].state()])) as ShardCheckpoint['packers'],
      counts: this.counts,
      skips: this.skips.toJSON(),
      corrupt: this.corrupt,
    };
  }

  private reportProgress(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    const c = this.counts;
    const fraction = this.input.shard.bytes > 0 ? Math.min(1, this.sourceOffset / this.input.shard.bytes) : 1;
    this.ctx.onProgress({
      stage: 'tokenize',
      item: this.input.shard.id,
      done: c.tokenized,
      // Documents in the shard are unknown up front: estimate from the share of the file read.
      total: force ? c.tokenized : Math.max(c.tokenized, Math.round(c.tokenized / Math.max(fraction, 1e-6))),
      unit: 'documents',
      metrics: { tokens: c.tokensTotal, skipped: this.skips.total, bytesRead: this.sourceOffset, bytesTotal: this.input.shard.bytes },
    });
  }

  /** Flushes unfinished rows (train, val, test order), writes the last files, builds the summary. */
  async finish(stoppedEarly: TokenizeShardSummary['stoppedEarly']): Promise<TokenizeShardSummary> {
    for (const split of SPLITS) {
      const row = this.packers[split].flush();
      if (row) this.pushRow(row);
    }
    while (this.pending.length > 0) await this.writeFile(this.pending.splice(0, this.config.rowsPerFile), false);
    this.reportProgress(true);
    const c = this.counts;
    const tok = this.input.tokenizer;
    return {
      schemaVersion: SHARD_FORMAT_VERSION,
      inputDigest: this.inputDigest,
      shard: this.input.shard,
      tokenizer: {
        name: tok.name,
        sha256: tok.sha256,
        vocabSize: tok.vocabSize,
        bosId: tok.bosId,
        eosId: tok.eosId,
        addBos: this.config.bos === 'always' || (this.config.bos === 'auto' && tok.addBos),
        fastSplit: tok.fastSplit,
        modelVocabSize: this.input.modelVocabSize ?? null,
      },
      files: this.files,
      documents: { read: c.tokenized + this.skips.total, tokenized: c.tokenized, skipped: this.skips.total, bySplit: c.docsBySplit },
      skips: this.skips.toJSON(),
      corrupt: this.corrupt,
      rows: c.rowsBySplit,
      tokens: { total: c.tokensTotal, bySplit: c.tokensBySplit, bySourceSet: sortKeys(c.tokensBySourceSet), dropped: c.dropped },
      stoppedEarly,
      config: this.config,
      corpus: this.corpus,
    };
  }
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
