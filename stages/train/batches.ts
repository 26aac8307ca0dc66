/**
 * Training batches from activation shards, one shard in memory at a time.
 *
 * - token mode (baselines): the shard's non-special tokens in a seeded random order;
 * - sequence mode (atr): the shard's context windows cut into sequences of seqLen positions, in a
 *   seeded random order, laid out as [sequences x positions] with a token mask (special and
 *   padding positions excluded from every loss) and a pair mask (pair (t-1, t) valid only inside
 *   one window and document with neither token special), see schemas/activation-shard.ts.
 *
 * Shuffling is within a shard (shard order is shuffled per epoch too), so memory stays bounded.
 * The order is a pure function of (seed, epoch, shard), so a cursor {epoch, shard, offset} is all
 * a checkpoint needs to resume the exact stream. Values are copied raw (fp16 bits stay fp16; the
 * step graph casts them).
 */
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { badConfig, badInput } from '../../lib/core/errors.js';
import { Prng } from './prng.js';

/** Shards to train on, loaded one at a time. */
export interface TrainData {
  shardCount: number;
  loadShard(index: number): Promise<ActivationTable>;
}

export function tablesAsData(tables: ActivationTable[]): TrainData {
  return { shardCount: tables.length, loadShard: async (i) => tables[i] };
}

/** Position in the stream: epoch, index into that epoch's shard order, units consumed in the shard. */
export interface DataCursor {
  epoch: number;
  shard: number;
  offset: number;
}

export interface StreamOptions {
  mode: 'token' | 'sequence';
  batchSize: number;
  /** Positions per sequence (sequence mode). */
  seqLen: number;
  seed: number;
}

/** Destination of one run's batches: xs [M, batch, d] plus masks [M, batch] in sequence mode. */
export interface BatchBuffers {
  xs: Float32Array | Uint16Array;
  tokenMasks?: Float32Array;
  pairMasks?: Float32Array;
}

interface LoadedShard {
  index: number;
  epoch: number;
  table: ActivationTable;
  /** token mode: token indices; sequence mode: window starts. */
  units: Int32Array;
  /** sequence mode: window lengths. */
  lengths?: Int32Array;
}

export class BatchStream {
  private current: LoadedShard | null = null;
  private pos: DataCursor;
  private shardOrder: Int32Array | null = null;
  private orderEpoch = -1;

  constructor(
    private readonly data: TrainData,
    private readonly opts: StreamOptions,
    readonly dIn: number,
    readonly dtype: 'float16' | 'float32',
    cursor: DataCursor = { epoch: 0, shard: 0, offset: 0 },
  ) {
    if (data.shardCount < 1) throw badInput('Training data has no activation shards');
    if (opts.mode === 'sequence' && opts.batchSize % opts.seqLen !== 0) {
      throw badConfig(`batchSize (${opts.batchSize}) must be a multiple of seqLen (${opts.seqLen}) for sequence batches`);
    }
    this.pos = { ...cursor };
  }

  cursor(): DataCursor {
    return { ...this.pos };
  }

  /** Writes batch `slot` of a run into `buffers` and advances the cursor. */
  async fill(buffers: BatchBuffers, slot: number): Promise<void> {
    const { batchSize, seqLen } = this.opts;
    const perBatch = this.opts.mode === 'token' ? batchSize : batchSize / seqLen;
    const rowBase = slot * batchSize;
    if (buffers.tokenMasks) buffers.tokenMasks.fill(0, rowBase, rowBase + batchSize);
    if (buffers.pairMasks) buffers.pairMasks.fill(0, rowBase, rowBase + batchSize);
    for (let u = 0; u < perBatch; u++) {
      const shard = await this.shardWithUnits();
      const unit = this.pos.offset++;
      if (this.opts.mode === 'token') copyRow(shard.table, shard.units[unit], buffers.xs, rowBase + u, this.dIn);
      else this.copySequence(shard, unit, buffers, rowBase + u * seqLen);
    }
  }

  private copySequence(shard: LoadedShard, unit: number, buffers: BatchBuffers, row0: number): void {
    const { table, units, lengths } = shard;
    const start = units[unit];
    const length = lengths![unit];
    const { xs, tokenMasks, pairMasks } = buffers;
    xs.fill(0, row0 * this.dIn, (row0 + this.opts.seqLen) * this.dIn);
    for (let t = 0; t < length; t++) {
      const i = start + t;
      copyRow(table, i, xs, row0 + t, this.dIn);
      const special = table.isSpecial[i] !== 0;
      tokenMasks![row0 + t] = special ? 0 : 1;
      const pair = t > 0 && !special && table.isSpecial[i - 1] === 0 && table.docIndex[i] === table.docIndex[i - 1];
      pairMasks![row0 + t] = pair ? 1 : 0;
    }
  }

  /** The shard the cursor points into, moving to the next shard / epoch when one is used up. */
  private async shardWithUnits(): Promise<LoadedShard> {
    let emptyInARow = 0;
    for (;;) {
      const index = this.shardIndex();
      if (!this.current || this.current.index !== index || this.current.epoch !== this.pos.epoch) this.current = await this.load(index);
      if (this.pos.offset < this.current.units.length) return this.current;
      emptyInARow = this.current.units.length === 0 ? emptyInARow + 1 : 0;
      if (emptyInARow >= this.data.shardCount) {
        throw badInput(`No usable ${this.opts.mode === 'token' ? 'non-special tokens' : 'sequences'} in any of the ${this.data.shardCount} activation shards`);
      }
      const last = this.pos.shard + 1 >= this.data.shardCount;
      this.pos = last ? { epoch: this.pos.epoch + 1, shard: 0, offset: 0 } : { ...this.pos, shard: this.pos.shard + 1, offset: 0 };
    }
  }

  private shardIndex(): number {
    if (this.orderEpoch !== this.pos.epoch || !this.shardOrder) {
      this.shardOrder = Prng.fromSeed(this.opts.seed, 'shards', this.pos.epoch).shuffle(Int32Array.from({ length: this.data.shardCount }, (_, i) => i));
      this.orderEpoch = this.pos.epoch;
    }
    return this.shardOrder[this.pos.shard];
  }

  private async load(index: number): Promise<LoadedShard> {
    const table = await this.data.loadShard(index);
    if (table.dModel !== this.dIn || table.dtype !== this.dtype) {
      throw badInput(`Activation shard ${index} has d_model ${table.dModel} / ${table.dtype}; expected ${this.dIn} / ${this.dtype} like shard 0`);
    }
    const rng = Prng.fromSeed(this.opts.seed, 'units', this.pos.epoch, index);
    const epoch = this.pos.epoch;
    if (this.opts.mode === 'token') return { index, epoch, table, units: rng.shuffle(nonSpecialTokens(table)) };
    const { starts, lengths } = sequenceWindows(table, this.opts.seqLen);
    const order = rng.shuffle(Int32Array.from({ length: starts.length }, (_, i) => i));
    return { index, epoch, table, units: order.map((i) => starts[i]), lengths: order.map((i) => lengths[i]) };
  }
}

function copyRow(table: ActivationTable, token: number, dst: Float32Array | Uint16Array, row: number, d: number): void {
  dst.set(table.values.subarray(token * d, (token + 1) * d), row * d);
}

/** Indices of tokens that are not special. */
export function nonSpecialTokens(table: ActivationTable): Int32Array {
  let count = 0;
  for (let i = 0; i < table.count; i++) if (table.isSpecial[i] === 0) count++;
  const out = new Int32Array(count);
  for (let i = 0, j = 0; i < table.count; i++) if (table.isSpecial[i] === 0) out[j++] = i;
  return out;
}

/**
 * Sequences: runs of equal row_id (context windows; rows are contiguous per window), cut into
 * pieces of at most seqLen positions. Windows with no non-special token are dropped.
 */
export function sequenceWindows(table: ActivationTable, seqLen: number): { starts: Int32Array; lengths: Int32Array } {
  const starts: number[] = [];
  const lengths: number[] = [];
  let i = 0;
  while (i < table.count) {
    let end = i + 1;
    while (end < table.count && table.rowIds[end] === table.rowIds[i]) end++;
    for (let s = i; s < end; s += seqLen) {
      const len = Math.min(seqLen, end - s);
      let valid = false;
      for (let t = s; t < s + len; t++) if (table.isSpecial[t] === 0) valid = true;
      if (valid) {
        starts.push(s);
        lengths.push(len);
      }
    }
    i = end;
  }
  return { starts: Int32Array.from(starts), lengths: Int32Array.from(lengths) };
}

/** Longest context window (run of equal row_id) in a shard: the default seqLen. */
export function longestWindow(table: ActivationTable): number {
  let best = 0;
  let i = 0;
  while (i < table.count) {
    let end = i + 1;
    while (end < table.count && table.rowIds[end] === table.rowIds[i]) end++;
    best = Math.max(best, end - i);
    i = end;
  }
  return best;
}
