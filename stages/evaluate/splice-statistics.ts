import { intervalFromReplicates, resampledSum, type Interval } from './bootstrap.js';
import { SPLICE_BASE_COLUMNS, SPLICE_COL, spliceWidth, type SpliceSums } from './splice-multi.js';

/**
 * KL / CE scores of one SAE from the per-window sums of splice-multi.ts (SAELens
 * `get_recons_loss` definitions, metrics.md):
 *   kl_div_score  = (KL_ablation - KL_sae) / KL_ablation
 *   ce_loss_score = (CE_ablation - CE_sae) / (CE_ablation - CE_clean)
 * each term the mean over its tokens. A bootstrap resample of windows recomputes every mean
 * from the resampled sums, so the score's interval is that of the ratio itself.
 */
export interface SpliceMetrics {
  kl_div_score: number;
  kl_div_with_ablation: number;
  kl_div_with_sae: number;
  ce_loss_score: number;
  ce_loss_with_ablation: number;
  ce_loss_with_sae: number;
  ce_loss_without_sae: number;
  /** Tokens averaged for KL. */
  tokens: number;
  /** Tokens averaged for CE (no target at a window's last position). */
  tokens_ce: number;
}

/** Column sums over a multiset of windows (all windows when `indices` is null); table [windows, width]. */
function columnSums(table: Float64Array, width: number, windows: number, indices: Int32Array | null): Float64Array {
  const idx = indices ?? Int32Array.from({ length: windows }, (_, i) => i);
  const out = new Float64Array(width);
  for (let c = 0; c < width; c++) out[c] = resampledSum(table, width, c, idx);
  return out;
}

function metricsOf(total: Float64Array, s: number): SpliceMetrics {
  const klN = total[SPLICE_COL.tokensKl];
  const ceN = total[SPLICE_COL.tokensCe];
  const kl = { abl: total[SPLICE_COL.klAbl] / klN, sae: total[SPLICE_BASE_COLUMNS + 2 * s] / klN };
  const ce = { abl: total[SPLICE_COL.ceAbl] / ceN, sae: total[SPLICE_BASE_COLUMNS + 2 * s + 1] / ceN, clean: total[SPLICE_COL.ceClean] / ceN };
  return {
    kl_div_score: (kl.abl - kl.sae) / kl.abl,
    kl_div_with_ablation: kl.abl,
    kl_div_with_sae: kl.sae,
    ce_loss_score: (ce.abl - ce.sae) / (ce.abl - ce.clean),
    ce_loss_with_ablation: ce.abl,
    ce_loss_with_sae: ce.sae,
    ce_loss_without_sae: ce.clean,
    tokens: klN,
    tokens_ce: ceN,
  };
}

/** Full-sample metrics of SAE number `s`. */
export function spliceMetrics(sums: SpliceSums, s: number): SpliceMetrics {
  const width = spliceWidth(sums.labels.length);
  return metricsOf(columnSums(Float64Array.from(sums.values), width, sums.windows, null), s);
}

/** Keys that get intervals: the scores, the SAE-dependent raw terms and the shared baselines. */
export const SPLICE_INTERVAL_KEYS = ['kl_div_score', 'ce_loss_score', 'kl_div_with_sae', 'ce_loss_with_sae', 'kl_div_with_ablation', 'ce_loss_with_ablation', 'ce_loss_without_sae'] as const;
export type SpliceIntervalKey = (typeof SPLICE_INTERVAL_KEYS)[number];

/**
 * Bootstrap intervals of SAE `s`'s metrics over windows, with the resample rows `indices`
 * [resamples, windows] (the same rows for every SAE, so differences between SAEs are paired).
 */
export function spliceIntervals(sums: SpliceSums, s: number, indices: Int32Array, level: number): Record<SpliceIntervalKey, Interval> {
  const width = spliceWidth(sums.labels.length);
  const table = Float64Array.from(sums.values);
  const n = sums.windows;
  const full = metricsOf(columnSums(table, width, n, null), s);
  const replicates: SpliceMetrics[] = [];
  for (let start = 0; n > 0 && start + n <= indices.length; start += n) {
    replicates.push(metricsOf(columnSums(table, width, n, indices.subarray(start, start + n)), s));
  }
  const out = {} as Record<SpliceIntervalKey, Interval>;
  for (const key of SPLICE_INTERVAL_KEYS) {
    out[key] = intervalFromReplicates(replicates.map((m) => m[key]).filter(Number.isFinite), level, full[key]);
  }
  return out;
}
