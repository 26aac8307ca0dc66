import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorpusConfigInput, CorpusShardPlan, Split, TokenizeConfig, TokenizeConfigInput, TokenizeShardSummary } from '../../schemas/corpus.js';
import { CorpusConfig, SPLITS, TokenizeConfig as TokenizeConfigSchema } from '../../schemas/corpus.js';
import type { TokenRow } from '../../schemas/token-shard.js';
import { canonicalJson, fileExists, sha256File, sha256Hex, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { sourceSetOf } from '../corpus/corpus-record.js';
import { readShardRecords } from '../corpus/read-corpus.js';
import { SkipLog } from '../corpus/skip-log.js';
import { assignSplit } from './assign-split.js';
import type { TextTokenizer } from './load-tokenizer.js';
import { RowPacker } from './row-packer.js';
import { emptyCounts, rowFromJson, rowToJson, type ShardCheckpoint, type ShardCounts } from './shard-state.js';
import { writeTokenShard } from './token-shard.js';

export const SHARD_MANIFEST_FILE = 'shard-manifest.json';
export const CHECKPOINT_FILE = 'checkpoint.json';
const PROGRESS_INTERVAL_MS = 500;

export interface TokenizeShardInput {
  shard: CorpusShardPlan;
  tokenizer: TextTokenizer;
  config?: TokenizeConfigInput;
  /** The corpus config: its fields, bad-input policy and limits apply (its path does not). */
  corpus?: Partial<CorpusConfigInput>;
}

/** Record-reading settings of a corpus config, with defaults. */
function readingConfig(corpus: Partial<CorpusConfigInput> | undefined) {
  const parsed = CorpusConfig.parse({ path: '.', ...corpus });
  return { textField: parsed.textField, metaField: parsed.metaField, badInput: parsed.badInput, limits: parsed.limits };
}

export function tokenFileName(index: number): string {
  return `tokens-${String(index).padStart(5, '0')}.parquet`;
}

/**
 * Tokenizes one planned corpus shard into Parquet token files plus shard-manifest.json in outDir.
 * Resumable: after each finished token file a checkpoint records the exact state, and a retry
 * continues from it (verifying earlier files by hash), so output is byte-identical to an
 * uninterrupted run. A finished shard (valid manifest for the same inputs) is returned as is.
 */
export async function tokenizeShard(input: TokenizeShardInput, outDir: string, ctx: StageContext): Promise<TokenizeShardSummary> {
  const config = TokenizeConfigSchema.parse(input.config ?? {});
  const corpus = readingConfig(input.corpus);
  const inputDigest = sha256Hex(canonicalJson({ shard: input.shard, tokenizer: input.tokenizer.sha256, fast: input.tokenizer.fastSplit, config, corpus }));
  const done = await readFinishedManifest(outDir, inputDigest);
  if (done) return done;
  const checkpoint = await loadCheckpoint(outDir, inputDigest, ctx);
  const run = new ShardRun(input, config, corpus, inputDigest, outDir, ctx, checkpoint);
  const stoppedEarly = await run.consume();
  const summary = await run.finish(stoppedEarly);
  await writeJsonAtomic(join(outDir, SHARD_MANIFEST_FILE), summary);
  await rm(join(outDir, CHECKPOINT_FILE), { force: true });
  ctx.log.info('tokenized shard', { shard: input.shard.id, rows: summary.files.reduce((a, f) => a + f.rows, 0), tokens: summary.tokens.total });
  return summary;
}

async function readFinishedManifest(outDir: string, inputDigest: string): Promise<TokenizeShardSummary | null> {
  const path = join(outDir, SHARD_MANIFEST_FILE);
  if (!(await fileExists(path))) return null;
  const manifest = JSON.parse(await readFile(path, 'utf8')) as TokenizeShardSummary;
  if (manifest.inputDigest !== inputDigest) return null;
  for (const file of manifest.files) {
    if (!(await fileExists(join(outDir, file.path)))) return null;
  }
  return manifest;
}

/** A checkpoint for the same inputs whose files are intact, or null (and stale outputs removed). */
async function loadCheckpoint(outDir: string, inputDigest: string, ctx: StageContext): Promise<ShardCheckpoint | null> {
  const path = join(outDir, CHECKPOINT_FILE);
  if (await fileExists(path)) {
    const checkpoint = JSON.parse(await readFile(path, 'utf8')) as ShardCheckpoint;
    let intact = checkpoint.inputDigest === inputDigest;
    for (const file of intact ? checkpoint.files : []) {
      const target = join(outDir, file.path);
      if (!(await fileExists(target)) || (await sha256File(target)) !== file.sha256) intact = false;
    }
    if (intact) {
      ctx.log.info('resuming shard from checkpoint', { files: checkpoint.files.length, lastLine: checkpoint.lastLine });
      return checkpoint;
    }
  }
  // Start over: nothing from an attempt with other inputs may end up in this shard.
  for (const name of await readdir(outDir).catch(() => [] as string[])) {
    if (/^tokens-\d+\.parquet$/.test(name) || name === CHECKPOINT_FILE || name === SHARD_MANIFEST_FILE) await rm(join(outDir, name), { force: true });
  }
  return null;
}

type ReadingConfig = ReturnType<typeof readingConfig>;

/** One attempt at a shard: the record loop, token-file writes and checkpoints. */
class ShardRun {
  private readonly skips: SkipLog;
  private readonly packers: Record<Split, RowPacker>;
  private readonly counts: ShardCounts;
  private readonly files: ShardCheckpoint['files'];
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

  private addDocument(text: string, id: string, sourceSet: string): void {
    const split = assignSplit(text, this.config.splitSalt, this.config.splits);
    const tokens = this.input.tokenizer.encode(text);
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
      schemaVersion: 1,
      inputDigest: this.inputDigest,
      files: this.files,
      lastLine: this.lastLine,
      pendingRows: this.pending.map(rowToJson),
      packers: Object.fromEntries(SPLITS.map((s) => [s, this.packers[s].state()])) as ShardCheckpoint['packers'],
      counts: this.counts,
      skips: this.skips.toJSON(),
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
      schemaVersion: 1,
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
      },
      files: this.files,
      documents: { read: c.tokenized + this.skips.total, tokenized: c.tokenized, skipped: this.skips.total, bySplit: c.docsBySplit },
      skips: this.skips.toJSON(),
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
