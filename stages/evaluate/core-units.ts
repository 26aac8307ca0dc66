import { bootstrapInterval, resampledSum, type Interval } from './bootstrap.js';

/**
 * Per-unit sums behind the core metrics' bootstrap intervals. A unit is one context window
 * (prompt) or, for very large eval sets, a block of `windowsPerUnit` consecutive windows (the
 * caller keeps the unit count bounded, since each unit also stores a d-vector).
 *
 * Columns of `sums` [units, UNIT_COLUMNS]:
 *   tokens, rss = sum ||x - xhat||^2, rssKept (over non-excluded dims), sq = sum ||x||^2,
 *   sqKept, legacy = sum_t per-token legacy EV, legacyKept, l0 = sum_t L0
 * and `sumX` [units, d] = sum_t x_t, so a resample's pooled variance is
 * sum ||x||^2 - ||sum x||^2 / n about the resample's own mean, as the definition says.
 */
export const UNIT = { tokens: 0, rss: 1, rssKept: 2, sq: 3, sqKept: 4, legacy: 5, legacyKept: 6, l0: 7 } as const;
export const UNIT_COLUMNS = 8;

export class CoreUnitStats {
  private sums: Float64Array;
  private sumX: Float64Array;
  units = 0;

  constructor(
    readonly d: number,
    readonly windowsPerUnit: number,
    readonly excluded: ReadonlySet<number>,
  ) {
    this.sums = new Float64Array(64 * UNIT_COLUMNS);
    this.sumX = new Float64Array(64 * d);
  }

  /** Unit of the `windowIndex`-th window seen (0-based), growing the tables as needed. */
  unitOf(windowIndex: number): number {
    const unit = Math.floor(windowIndex / this.windowsPerUnit);
    if (unit >= this.units) {
      this.units = unit + 1;
      if (this.units * UNIT_COLUMNS > this.sums.length) {
        this.sums = grow(this.sums, this.units * UNIT_COLUMNS * 2);
        this.sumX = grow(this.sumX, this.units * this.d * 2);
      }
    }
    return unit;
  }

  add(unit: number, column: number, value: number): void {
    this.sums[unit * UNIT_COLUMNS + column] += value;
  }

  addX(unit: number, x: Float32Array, offset: number): void {
    const base = unit * this.d;
    for (let j = 0; j < this.d; j++) this.sumX[base + j] += x[offset + j];
  }

  table(): { sums: Float64Array; sumX: Float64Array; units: number } {
    return { sums: this.sums.subarray(0, this.units * UNIT_COLUMNS), sumX: this.sumX.subarray(0, this.units * this.d), units: this.units };
  }
}

function grow(a: Float64Array, size: number): Float64Array {
  const out = new Float64Array(size);
  out.set(a);
  return out;
}

/** Pooled EV of a resample: 1 - rss / (sq - ||sum x||^2 / n), optionally over the kept dims only. */
function pooledEv(t: { sums: Float64Array; sumX: Float64Array }, d: number, excluded: ReadonlySet<number>, kept: boolean, idx: Int32Array): number {
  const sx = new Float64Array(d);
  let n = 0;
  for (let i = 0; i < idx.length; i++) {
    const u = idx[i];
    n += t.sums[u * UNIT_COLUMNS + UNIT.tokens];
    for (let j = 0; j < d; j++) sx[j] += t.sumX[u * d + j];
  }
  let meanSq = 0;
  for (let j = 0; j < d; j++) if (!kept || !excluded.has(j)) meanSq += sx[j] * sx[j];
  const rss = resampledSum(t.sums, UNIT_COLUMNS, kept ? UNIT.rssKept : UNIT.rss, idx);
  const sq = resampledSum(t.sums, UNIT_COLUMNS, kept ? UNIT.sqKept : UNIT.sq, idx);
  return 1 - rss / (sq - meanSq / n);
}

function tokenMean(t: { sums: Float64Array }, column: number, idx: Int32Array): number {
  return resampledSum(t.sums, UNIT_COLUMNS, column, idx) / resampledSum(t.sums, UNIT_COLUMNS, UNIT.tokens, idx);
}

/**
 * Bootstrap intervals of the core metrics compared between SAEs.
 * @param estimates  the full-sample values (reported as the estimates)
 * @param indices    [resamples, units] resample indices
 */
export function coreIntervals(
  stats: CoreUnitStats,
  estimates: { explained_variance: number; explained_variance_legacy: number; explained_variance_without_massive_dims: number; explained_variance_legacy_without_massive_dims: number; l0: number; mse: number },
  indices: Int32Array,
  level: number,
): Record<string, Interval> {
  const t = stats.table();
  const n = t.units;
  const ci = (f: (idx: Int32Array) => number, estimate: number) => bootstrapInterval(f, indices, n, level, estimate);
  return {
    explained_variance: ci((idx) => pooledEv(t, stats.d, stats.excluded, false, idx), estimates.explained_variance),
    explained_variance_legacy: ci((idx) => tokenMean(t, UNIT.legacy, idx), estimates.explained_variance_legacy),
    explained_variance_without_massive_dims: ci((idx) => pooledEv(t, stats.d, stats.excluded, true, idx), estimates.explained_variance_without_massive_dims),
    explained_variance_legacy_without_massive_dims: ci((idx) => tokenMean(t, UNIT.legacyKept, idx), estimates.explained_variance_legacy_without_massive_dims),
    mse: ci((idx) => tokenMean(t, UNIT.rss, idx), estimates.mse),
    l0: ci((idx) => tokenMean(t, UNIT.l0, idx), estimates.l0),
  };
}
