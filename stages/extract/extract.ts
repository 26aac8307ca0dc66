/**
 * Extract stage (issue 4, item 3): residual stream at layer L for streams of token rows, written
 * as Arrow IPC activation parts (the resume unit) plus extract-progress.json.
 *
 * Only the prefix graph runs (tokens -> resid_post.L); rows are batched right-padded, which leaves
 * every real position unchanged under causal attention. A part is written atomically, then the
 * progress file; a killed attempt resumes after the last recorded part, skipping rows it already
 * wrote, so memory is bounded by one part whatever the corpus size.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenRow } from '../../schemas/token-shard.js';
import type { ActivationDtype, ExtractSummary, ModelDevice } from '../../schemas/model.js';
import { canonicalJson, sha256Hex, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { hookName, loadModelFolder, modelHash } from '../model/model-folder.js';
import { createPrefixRunner, type PrefixRunner } from '../model/prefix-runner.js';
import type { ComputeDtype } from '../model/autocast.js';
import { writeActivationShard } from './activation-shard-io.js';
import { PartBuilder } from './part-builder.js';

export interface ExtractInput {
  modelDir: string;
  layer: number;
  rows: AsyncIterable<TokenRow>;
  /** Number of rows `rows` yields, for progress. */
  totalRows: number;
  dtype: ActivationDtype;
  batchSize: number;
  device: ModelDevice;
  rowsPerPart?: number;
  intraOpThreads?: number;
  /** Where derived graphs go (default: the model's onnx/ folder). */
  graphDir?: string;
  /**
   * Precision of the model's MatMuls (stages/model/autocast.ts). Default: float16 on cuda
   * (tensor cores; residual stream, norms and softmax stay float32), float32 elsewhere.
   */
  computeDtype?: ComputeDtype;
}

/** The MatMul precision extraction uses on `device` unless told otherwise. */
export function defaultComputeDtype(device: ModelDevice): ComputeDtype {
  return device === 'cuda' ? 'float16' : 'float32';
}

interface Progress {
  fingerprint: string;
  parts: ExtractSummary['parts'];
  rows: number;
  tokens: number;
  specialTokens: number;
}

export const PROGRESS_FILE = 'extract-progress.json';

export async function extractActivations(input: ExtractInput, outDir: string, ctx: StageContext): Promise<ExtractSummary> {
  const folder = await loadModelFolder(input.modelDir);
  const hash = await modelHash(folder);
  const compute = input.computeDtype ?? defaultComputeDtype(input.device);
  const settings = {
    modelHash: hash,
    layer: input.layer,
    dtype: input.dtype,
    rowsPerPart: input.rowsPerPart ?? 256,
    // Only when it differs from float32: the float32 default is implied by its absence.
    ...(compute === 'float32' ? {} : { compute }),
  };
  const fingerprint = sha256Hex(canonicalJson(settings));
  const previous = await readProgress(outDir, fingerprint, ctx);
  const runner = await createPrefixRunner({ ...input, folder, compute, intraOpThreads: input.intraOpThreads ?? 0 });
  const resumedFromRows = previous?.rows ?? 0;
  try {
    const writer = new PartWriter(outDir, previous ?? { fingerprint, parts: [], rows: 0, tokens: 0, specialTokens: 0 }, folder.meta.dModel, input.dtype, settings.rowsPerPart);
    const started = performance.now();
    let newTokens = 0;
    for await (const batch of batchRows(skipRows(input.rows, resumedFromRows), input.batchSize)) {
      throwIfAborted(ctx.signal);
      for (const [row, values] of await runRows(runner, batch)) {
        await writer.add(row, values);
        newTokens += row.inputIds.length;
      }
      const seconds = (performance.now() - started) / 1000;
      ctx.onProgress({
        stage: 'extract',
        item: `layer ${input.layer}`,
        done: writer.rowsDone,
        total: input.totalRows,
        unit: 'rows',
        rate: (writer.rowsDone - resumedFromRows) / seconds,
        metrics: { tokensPerSecond: newTokens / seconds, tokens: writer.tokensDone },
      });
    }
    const state = await writer.finish();
    const seconds = (performance.now() - started) / 1000;
    return {
      modelHash: hash,
      layer: input.layer,
      hookName: hookName(input.layer),
      dtype: input.dtype,
      dModel: folder.meta.dModel,
      device: input.device,
      rows: state.rows,
      tokens: state.tokens,
      specialTokens: state.specialTokens,
      parts: state.parts,
      tokensPerSecond: seconds > 0 ? newTokens / seconds : 0,
      resumedFromRows,
    };
  } finally {
    await runner.dispose();
  }
}

/**
 * Closes a part at exactly rowsPerPart rows, whatever the batch size (so resume points do not
 * depend on batching): the part file first, atomically, then the progress file that lists it.
 */
class PartWriter {
  private readonly part: PartBuilder;

  constructor(
    private readonly outDir: string,
    private readonly state: Progress,
    dModel: number,
    dtype: ActivationDtype,
    private readonly rowsPerPart: number,
  ) {
    this.part = new PartBuilder(dModel, dtype);
  }

  get rowsDone(): number {
    return this.state.rows + this.part.rows;
  }

  get tokensDone(): number {
    return this.state.tokens + this.part.count;
  }

  async add(row: TokenRow, values: Float32Array | Uint16Array): Promise<void> {
    this.part.addRow(row, values);
    if (this.part.rows >= this.rowsPerPart) await this.flush();
  }

  async finish(): Promise<Progress> {
    await this.flush();
    if (this.state.parts.length === 0) await writeJsonAtomic(join(this.outDir, PROGRESS_FILE), this.state);
    return this.state;
  }

  private async flush(): Promise<void> {
    if (this.part.rows === 0) return;
    const file = `part-${String(this.state.parts.length).padStart(5, '0')}.arrow`;
    const shard = this.part.take();
    const bytes = await writeActivationShard(join(this.outDir, file), shard);
    this.state.parts.push({ file, rows: shard.rowCount, tokens: shard.count, bytes });
    this.state.rows += shard.rowCount;
    this.state.tokens += shard.count;
    this.state.specialTokens += shard.specialCount;
    await writeJsonAtomic(join(this.outDir, PROGRESS_FILE), this.state);
  }
}

async function* batchRows(rows: AsyncIterable<TokenRow>, size: number): AsyncIterable<TokenRow[]> {
  let batch: TokenRow[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Runs one batch of rows (right-padded to the longest); returns each row's real positions. */
async function runRows(runner: PrefixRunner, rows: TokenRow[]): Promise<[TokenRow, Float32Array | Uint16Array][]> {
  const seqLen = Math.max(...rows.map((r) => r.inputIds.length));
  const ids = new Int32Array(rows.length * seqLen);
  const mask = new Uint8Array(rows.length * seqLen);
  rows.forEach((r, b) => {
    ids.set(r.inputIds, b * seqLen);
    mask.fill(1, b * seqLen, b * seqLen + r.inputIds.length);
  });
  const out = await runner.run(ids, rows.length, seqLen, mask);
  const d = runner.dModel;
  return rows.map((r, b) => [r, out.subarray(b * seqLen * d, (b * seqLen + r.inputIds.length) * d)]);
}

async function* skipRows(rows: AsyncIterable<TokenRow>, count: number): AsyncIterable<TokenRow> {
  let seen = 0;
  for await (const row of rows) if (seen++ >= count) yield row;
}

/**
 * The progress of an earlier attempt with the same settings, or null (stale parts removed).
 * Only the fields of Progress are kept: files of earlier versions carry others (a scaleFactor,
 * always 1, from when extraction could rescale; their fingerprint also hashed the scaling
 * settings, so they never match and are discarded).
 */
async function readProgress(outDir: string, fingerprint: string, ctx: StageContext): Promise<Progress | null> {
  const text = await readFile(join(outDir, PROGRESS_FILE), 'utf8').catch(() => null);
  if (!text) return null;
  const progress = JSON.parse(text) as Progress;
  if (progress.fingerprint === fingerprint) {
    ctx.log.info('extract resuming', { rows: progress.rows, parts: progress.parts.length });
    const { parts, rows, tokens, specialTokens } = progress;
    return { fingerprint, parts, rows, tokens, specialTokens };
  }
  ctx.log.warn('extract settings changed since the last attempt; starting over', { outDir });
  for (const p of progress.parts) await rm(join(outDir, p.file), { force: true });
  await rm(join(outDir, PROGRESS_FILE), { force: true });
  return null;
}
