import { CoreUnitStats, UNIT } from './core-units.js';
import type { BatchConsumer, EncodedBatch } from './token-pass.js';

/**
 * Reconstruction, shrinkage and sparsity metrics over non-special tokens, with the SAELens /
 * SAEBench field names (metrics.md). Sums are float64.
 *
 * explained_variance           pooled: 1 - sum_t ||x_t - xhat_t||^2 / sum_t ||x_t - mean(x)||^2
 * explained_variance_legacy    SAEBench's reported one: mean_t [1 - ||x_t - xhat_t||^2 / ||x_t - mean_batch(x)||^2]
 * explained_variance_centered  dictionary_learning: 1 - sum_d var(x - xhat)_d / sum_d var(x)_d
 * mse                          mean_t ||x_t - xhat_t||^2 (summed over d); mse_per_dim divides by d
 *                              (SAELens' own `mse` further divides by the batch token count: not used)
 * relative_reconstruction_bias per batch E||xhat||^2 / E[x . xhat] (Gated SAE eq. 10), averaged
 *                              over batches as SAELens does
 * *_without_massive_dims       the same three EVs with every sum over d restricted to the
 *                              dimensions not excluded by massive-dims.ts (issue 13)
 * Per-window sums for the bootstrap intervals are kept in `units` (core-units.ts).
 */
export interface ReconstructionMetrics {
  explained_variance: number;
  explained_variance_legacy: number;
  explained_variance_centered: number;
  /** The three above over the dimensions not excluded as massive (massive-dims.ts). */
  explained_variance_without_massive_dims: number;
  explained_variance_legacy_without_massive_dims: number;
  explained_variance_centered_without_massive_dims: number;
  /** Share of the total variance sum_d var(x)_d held by the excluded dimensions. */
  massive_dims_share_of_variance: number;
  mse: number;
  mse_per_dim: number;
  cossim: number;
  l2_norm_in: number;
  l2_norm_out: number;
  l2_ratio: number;
  relative_reconstruction_bias: number;
  l0: number;
  l1: number;
  frac_alive: number;
  freq_over_1_percent: number;
  freq_over_10_percent: number;
  normalized_freq_over_1_percent: number;
  normalized_freq_over_10_percent: number;
  tokens: number;
}

export interface CoreMetricsResult {
  metrics: ReconstructionMetrics;
  /** Share of evaluated tokens on which each latent is > 0, [dSae]. */
  featureDensity: Float64Array;
  /** Firing tokens per window in which the latent fired at least once (SAELens heuristic), [dSae]; NaN if never. */
  consistentActivation: Float64Array;
}

export interface CoreAccumulatorOptions {
  /** Dimensions left out of the `*_without_massive_dims` variants (massive-dims.ts). */
  excludedDims?: readonly number[];
  /** Windows per bootstrap unit (core-units.ts); default 1. */
  windowsPerUnit?: number;
}

/** Accumulates core metrics batch by batch; `finish` returns them. */
export class CoreMetricsAccumulator implements BatchConsumer {
  private readonly dIn: number;
  private readonly dSae: number;
  private tokens = 0;
  private sums = { rss: 0, rssKept: 0, legacyEv: 0, legacyKept: 0, cossim: 0, normIn: 0, normOut: 0, l2Ratio: 0, l0: 0, l1: 0, bias: 0 };
  private biasBatches = 0;
  private readonly excluded: number[];
  private readonly xStats: WelfordVector;
  private readonly residualStats: WelfordVector;
  private readonly fired: Float64Array;
  private readonly firedWindows: Float64Array;
  private readonly lastWindow: Int32Array;
  private windowCounter = 0;
  readonly units: CoreUnitStats;

  constructor(dIn: number, dSae: number, options: CoreAccumulatorOptions = {}) {
    this.dIn = dIn;
    this.dSae = dSae;
    this.excluded = [...(options.excludedDims ?? [])].sort((a, b) => a - b);
    this.units = new CoreUnitStats(dIn, options.windowsPerUnit ?? 1, new Set(this.excluded));
    this.xStats = new WelfordVector(dIn);
    this.residualStats = new WelfordVector(dIn);
    this.fired = new Float64Array(dSae);
    this.firedWindows = new Float64Array(dSae);
    this.lastWindow = new Int32Array(dSae).fill(-1);
  }

  add(batch: EncodedBatch): void {
    const keep = nonSpecialRows(batch);
    const batchMean = keep.length > 0 ? meanOfRows(batch.x, keep, this.dIn) : new Float64Array(this.dIn);
    const bias = { hatSq: 0, dot: 0 };
    for (const window of batch.windows) {
      const windowId = this.windowCounter++;
      const unit = this.units.unitOf(windowId);
      for (let t = window.start; t < window.start + window.length; t++) {
        if (batch.table.isSpecial[t]) continue;
        this.addToken(batch, t - batch.first, unit, batchMean, bias);
        this.addSparsity(batch, t, windowId, unit);
      }
    }
    if (keep.length === 0) return;
    this.sums.bias += bias.hatSq / bias.dot;
    this.biasBatches++;
  }

  /** Reconstruction terms of batch row r (a non-special token). */
  private addToken(batch: EncodedBatch, r: number, unit: number, batchMean: Float64Array, bias: { hatSq: number; dot: number }): void {
    const d = this.dIn;
    const residual = new Float64Array(d);
    let rss = 0, centred = 0, xx = 0, hh = 0, xh = 0;
    for (let j = 0; j < d; j++) {
      const x = batch.x[r * d + j];
      const h = batch.reconstruction[r * d + j];
      residual[j] = x - h;
      rss += (x - h) * (x - h);
      centred += (x - batchMean[j]) * (x - batchMean[j]);
      xx += x * x;
      hh += h * h;
      xh += x * h;
    }
    // The same sums without the excluded (massive-activation) dimensions.
    let rssKept = rss, centredKept = centred, xxKept = xx;
    for (const j of this.excluded) {
      const x = batch.x[r * d + j];
      rssKept -= residual[j] * residual[j];
      centredKept -= (x - batchMean[j]) * (x - batchMean[j]);
      xxKept -= x * x;
    }
    this.xStats.add(batch.x, r * d);
    this.residualStats.add(residual, 0);
    const normIn = Math.sqrt(xx);
    const normOut = Math.sqrt(hh);
    const legacy = 1 - rss / centred;
    const legacyKept = 1 - rssKept / centredKept;
    this.sums.rss += rss;
    this.sums.rssKept += rssKept;
    this.sums.legacyEv += legacy;
    this.sums.legacyKept += legacyKept;
    this.sums.cossim += normIn > 0 && normOut > 0 ? xh / (normIn * normOut) : 0;
    this.sums.normIn += normIn;
    this.sums.normOut += normOut;
    this.sums.l2Ratio += normOut / (normIn < 1e-4 ? 1 : normIn);
    bias.hatSq += hh;
    bias.dot += xh;
    this.tokens++;
    const u = this.units;
    u.add(unit, UNIT.tokens, 1);
    u.add(unit, UNIT.rss, rss);
    u.add(unit, UNIT.rssKept, rssKept);
    u.add(unit, UNIT.sq, xx);
    u.add(unit, UNIT.sqKept, xxKept);
    u.add(unit, UNIT.legacy, legacy);
    u.add(unit, UNIT.legacyKept, legacyKept);
    u.addX(unit, batch.x, r * d);
  }

  /** Sparsity terms of table row t (a non-special token) of window `windowId`. */
  private addSparsity(batch: EncodedBatch, t: number, windowId: number, unit: number): void {
    const m = this.dSae;
    const base = (t - batch.first) * m;
    let l0 = 0;
    let l1 = 0;
    for (let i = 0; i < m; i++) {
      const f = batch.latents[base + i];
      if (f === 0) continue;
      l0++;
      l1 += Math.abs(f);
      if (f > 0) {
        this.fired[i]++;
        if (this.lastWindow[i] !== windowId) {
          this.lastWindow[i] = windowId;
          this.firedWindows[i]++;
        }
      }
    }
    this.sums.l0 += l0;
    this.sums.l1 += l1;
    this.units.add(unit, UNIT.l0, l0);
  }

  finish(): CoreMetricsResult {
    const n = this.tokens;
    const totalVariance = this.xStats.sumOfSquaredDeviations();
    const perDimVariance = this.xStats.perDimension();
    let excludedVariance = 0;
    for (const j of this.excluded) excludedVariance += perDimVariance[j];
    let excludedResidual = 0;
    const perDimResidual = this.residualStats.perDimension();
    for (const j of this.excluded) excludedResidual += perDimResidual[j];
    const featureDensity = new Float64Array(this.dSae);
    const consistentActivation = new Float64Array(this.dSae);
    for (let i = 0; i < this.dSae; i++) {
      featureDensity[i] = n > 0 ? this.fired[i] / n : NaN;
      consistentActivation[i] = this.firedWindows[i] > 0 ? this.fired[i] / this.firedWindows[i] : NaN;
    }
    const metrics: ReconstructionMetrics = {
      explained_variance: 1 - this.sums.rss / totalVariance,
      explained_variance_legacy: this.sums.legacyEv / n,
      explained_variance_centered: 1 - this.residualStats.sumOfSquaredDeviations() / totalVariance,
      explained_variance_without_massive_dims: 1 - this.sums.rssKept / (totalVariance - excludedVariance),
      explained_variance_legacy_without_massive_dims: this.sums.legacyKept / n,
      explained_variance_centered_without_massive_dims: 1 - (this.residualStats.sumOfSquaredDeviations() - excludedResidual) / (totalVariance - excludedVariance),
      massive_dims_share_of_variance: totalVariance > 0 ? excludedVariance / totalVariance : 0,
      mse: this.sums.rss / n,
      mse_per_dim: this.sums.rss / n / this.dIn,
      cossim: this.sums.cossim / n,
      l2_norm_in: this.sums.normIn / n,
      l2_norm_out: this.sums.normOut / n,
      l2_ratio: this.sums.l2Ratio / n,
      relative_reconstruction_bias: this.sums.bias / this.biasBatches,
      l0: this.sums.l0 / n,
      l1: this.sums.l1 / n,
      ...densityShares(featureDensity),
      tokens: n,
    };
    return { metrics, featureDensity, consistentActivation };
  }
}

/** SAEBench `calculate_misc_metrics` from per-latent densities. */
export function densityShares(density: Float64Array): Pick<
  ReconstructionMetrics,
  'frac_alive' | 'freq_over_1_percent' | 'freq_over_10_percent' | 'normalized_freq_over_1_percent' | 'normalized_freq_over_10_percent'
> {
  let alive = 0, over1 = 0, over10 = 0, total = 0, sum1 = 0, sum10 = 0;
  for (const p of density) {
    total += p;
    if (p > 0) alive++;
    if (p > 0.01) (over1++, (sum1 += p));
    if (p > 0.1) (over10++, (sum10 += p));
  }
  const m = density.length;
  return {
    frac_alive: alive / m,
    freq_over_1_percent: over1 / m,
    freq_over_10_percent: over10 / m,
    normalized_freq_over_1_percent: total > 0 ? sum1 / total : 0,
    normalized_freq_over_10_percent: total > 0 ? sum10 / total : 0,
  };
}

/** Batch-local indices of the batch's non-special tokens. */
export function nonSpecialRows(batch: EncodedBatch): number[] {
  const keep: number[] = [];
  for (let r = 0; r < batch.rows; r++) if (!batch.table.isSpecial[batch.first + r]) keep.push(r);
  return keep;
}

function meanOfRows(x: Float32Array, rows: readonly number[], d: number): Float64Array {
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += x[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= rows.length;
  return mean;
}

/** Per-dimension running mean and sum of squared deviations (Welford), float64. */
class WelfordVector {
  private count = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(d: number) {
    this.mean = new Float64Array(d);
    this.m2 = new Float64Array(d);
  }

  add(values: ArrayLike<number>, offset: number): void {
    this.count++;
    for (let j = 0; j < this.mean.length; j++) {
      const v = values[offset + j];
      const delta = v - this.mean[j];
      this.mean[j] += delta / this.count;
      this.m2[j] += delta * (v - this.mean[j]);
    }
  }

  /** Per dimension sum_t (v_tj - mean_j)^2, [d]. */
  perDimension(): Float64Array {
    return this.m2;
  }

  /** sum_t ||v_t - mean(v)||^2 */
  sumOfSquaredDeviations(): number {
    let s = 0;
    for (const v of this.m2) s += v;
    return s;
  }
}
