import { nonSpecialRows } from './core-metrics.js';
import type { BatchConsumer, EncodedBatch } from './token-pass.js';

/**
 * Temporal statistics of an SAE over held-out windows (the paper's Figures 1 and 3), on
 * non-special tokens. Definitions (f_t: latent vector at position t; T: non-special tokens;
 * P: pairs (t-1, t) at consecutive positions of one window, same document, neither special):
 *
 *   per position p:  l0, mse (sum over d) and explained variance
 *                    1 - sum_{t at p} ||x_t - xhat_t||^2 / sum_{t at p} ||x_t - mu||^2,
 *                    mu the mean over all of T (so positions share one baseline)
 *   feature instability_i  = mean_P (f_t,i - f_t-1,i)^2 / mean_T f_t,i^2
 *                    (0: constant along the sequence; 2: independent draws of a sparse latent)
 *   temporal_instability   = mean_P ||f_t - f_t-1||^2 / mean_T ||f_t||^2 (all latents at once)
 *   feature autocorrelation_i = mean_P (f_t-1,i - m_i)(f_t,i - m_i) / var_T(f_i), m_i = mean_T f_i
 *                    (the lag-1 sample autocorrelation pooled over windows)
 *   activity: firing rate and mean activation of every latent at every position.
 * Latents that never fire have NaN instability / autocorrelation and are left out of summaries.
 */
export interface PositionStats {
  position: number;
  tokens: number;
  l0: number;
  mse: number;
  explained_variance: number;
}

export interface TemporalStats {
  perPosition: PositionStats[];
  /** [dSae] */
  featureInstability: Float64Array;
  /** [dSae] */
  featureAutocorrelation: Float64Array;
  temporalInstability: number;
  pairs: number;
  tokens: number;
  /** Positions (columns of the activity matrices), ascending. */
  positions: number[];
  /** [dSae, positions.length] share of tokens at that position where the latent is > 0. */
  firingRate: Float32Array;
  /** [dSae, positions.length] mean latent value at that position. */
  meanActivation: Float32Array;
}

export class TemporalAccumulator implements BatchConsumer {
  private readonly dIn: number;
  private readonly dSae: number;
  private readonly byPosition = new Map<number, { n: number; l0: number; rss: number; sq: number; sum: Float64Array; fired: Float64Array; act: Float64Array }>();
  private readonly xSum: Float64Array;
  private readonly token = { n: 0, sum: new Float64Array(0), sumSq: new Float64Array(0) };
  private readonly pair = { n: 0, prev: new Float64Array(0), cur: new Float64Array(0), prevSq: new Float64Array(0), curSq: new Float64Array(0), cross: new Float64Array(0) };
  private readonly scratch: Float64Array;

  constructor(dIn: number, dSae: number) {
    this.dIn = dIn;
    this.dSae = dSae;
    this.xSum = new Float64Array(dIn);
    this.token.sum = new Float64Array(dSae);
    this.token.sumSq = new Float64Array(dSae);
    for (const key of ['prev', 'cur', 'prevSq', 'curSq', 'cross'] as const) this.pair[key] = new Float64Array(dSae);
    this.scratch = new Float64Array(dSae);
  }

  add(batch: EncodedBatch): void {
    const keep = new Set(nonSpecialRows(batch));
    const nonzero = new Map<number, Int32Array>();
    for (const r of keep) nonzero.set(r, this.addToken(batch, r));
    const { table, first } = batch;
    for (const r of keep) {
      const t = first + r;
      const prev = r - 1;
      if (prev < 0 || !keep.has(prev) || table.rowIds[t] !== table.rowIds[t - 1]) continue;
      if (table.positions[t] !== table.positions[t - 1] + 1 || table.docIndex[t] !== table.docIndex[t - 1]) continue;
      this.addPair(batch.latents, prev, r, nonzero.get(prev)!, nonzero.get(r)!);
    }
  }

  /** Adds one token's statistics; returns the indices of its nonzero latents. */
  private addToken(batch: EncodedBatch, r: number): Int32Array {
    const d = this.dIn;
    const position = batch.table.positions[batch.first + r];
    const slot = this.positionSlot(position);
    let rss = 0;
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const x = batch.x[r * d + j];
      const e = x - batch.reconstruction[r * d + j];
      rss += e * e;
      sq += x * x;
      slot.sum[j] += x;
      this.xSum[j] += x;
    }
    const indices: number[] = [];
    const base = r * this.dSae;
    for (let i = 0; i < this.dSae; i++) {
      const f = batch.latents[base + i];
      if (f === 0) continue;
      indices.push(i);
      this.token.sum[i] += f;
      this.token.sumSq[i] += f * f;
      slot.act[i] += f;
      if (f > 0) slot.fired[i]++;
    }
    slot.n++;
    slot.l0 += indices.length;
    slot.rss += rss;
    slot.sq += sq;
    this.token.n++;
    return Int32Array.from(indices);
  }

  private addPair(latents: Float32Array, prevRow: number, curRow: number, prevIdx: Int32Array, curIdx: Int32Array): void {
    const m = this.dSae;
    const p = this.pair;
    for (const i of prevIdx) {
      const v = latents[prevRow * m + i];
      p.prev[i] += v;
      p.prevSq[i] += v * v;
      this.scratch[i] = v;
    }
    for (const i of curIdx) {
      const v = latents[curRow * m + i];
      p.cur[i] += v;
      p.curSq[i] += v * v;
      p.cross[i] += v * this.scratch[i];
    }
    for (const i of prevIdx) this.scratch[i] = 0;
    p.n++;
  }

  private positionSlot(position: number) {
    let slot = this.byPosition.get(position);
    if (!slot) {
      slot = { n: 0, l0: 0, rss: 0, sq: 0, sum: new Float64Array(this.dIn), fired: new Float64Array(this.dSae), act: new Float64Array(this.dSae) };
      this.byPosition.set(position, slot);
    }
    return slot;
  }

  finish(): TemporalStats {
    const positions = [...this.byPosition.keys()].sort((a, b) => a - b);
    const { featureInstability, featureAutocorrelation, temporalInstability } = this.featureStats();
    const firingRate = new Float32Array(this.dSae * positions.length);
    const meanActivation = new Float32Array(this.dSae * positions.length);
    positions.forEach((position, c) => {
      const slot = this.byPosition.get(position)!;
      for (let i = 0; i < this.dSae; i++) {
        firingRate[i * positions.length + c] = slot.fired[i] / slot.n;
        meanActivation[i * positions.length + c] = slot.act[i] / slot.n;
      }
    });
    return {
      perPosition: this.positionStats(positions),
      featureInstability,
      featureAutocorrelation,
      temporalInstability,
      pairs: this.pair.n,
      tokens: this.token.n,
      positions,
      firingRate,
      meanActivation,
    };
  }

  private positionStats(positions: number[]): PositionStats[] {
    const n = this.token.n;
    const mu = this.xSum.map((s) => s / n);
    let muSq = 0;
    for (const v of mu) muSq += v * v;
    return positions.map((position) => {
      const s = this.byPosition.get(position)!;
      let cross = 0;
      for (let j = 0; j < this.dIn; j++) cross += mu[j] * s.sum[j];
      const deviation = s.sq - 2 * cross + s.n * muSq;
      return { position, tokens: s.n, l0: s.l0 / s.n, mse: s.rss / s.n, explained_variance: 1 - s.rss / deviation };
    });
  }

  private featureStats() {
    const { n: nT, sum, sumSq } = this.token;
    const p = this.pair;
    const featureInstability = new Float64Array(this.dSae);
    const featureAutocorrelation = new Float64Array(this.dSae);
    let diffTotal = 0;
    let sqTotal = 0;
    for (let i = 0; i < this.dSae; i++) {
      const diff = (p.curSq[i] + p.prevSq[i] - 2 * p.cross[i]) / p.n;
      const meanSq = sumSq[i] / nT;
      const m = sum[i] / nT;
      const variance = meanSq - m * m;
      const lagCov = (p.cross[i] - m * (p.prev[i] + p.cur[i])) / p.n + m * m;
      featureInstability[i] = meanSq > 0 && p.n > 0 ? diff / meanSq : NaN;
      featureAutocorrelation[i] = variance > 0 && p.n > 0 ? lagCov / variance : NaN;
      diffTotal += p.n > 0 ? diff : 0;
      sqTotal += meanSq;
    }
    return { featureInstability, featureAutocorrelation, temporalInstability: sqTotal > 0 && p.n > 0 ? diffTotal / sqTotal : NaN };
  }
}

/** Mean and median of the finite entries (NaN when none). */
export function summarise(values: Float64Array): { mean: number; median: number; count: number } {
  const finite = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return { mean: NaN, median: NaN, count: 0 };
  const mid = finite.length >> 1;
  const median = finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
  return { mean: finite.reduce((a, b) => a + b, 0) / finite.length, median, count: finite.length };
}
