import type { ActivationTable } from '../../schemas/activation-shard.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { batchRows, batchWindows, splitWindows, type TokenWindow } from './activation-windows.js';
import type { SaeForEval, Splicer } from './interfaces.js';

/**
 * The KL / CE splice of several SAEs at once (issue 13). The clean suffix pass and the zero
 * ablation do not depend on the SAE, so per batch the model runs the clean residual once, the
 * ablation once and each SAE's reconstruction once (one Splicer call with replacements
 * [ablation, sae_1, ..., sae_S]); splicing S SAEs one by one would cost 3S suffix passes
 * instead of S + 2. Results are per-window sums (a window is one prompt), from which the scores
 * and their bootstrap intervals follow (splice-statistics.ts).
 *
 * Conventions as SAELens `get_recons_loss` (metrics.md): KL(p_clean || p_new) summed over the
 * vocabulary; a token counts when its input token is not special; a CE term at t predicts t + 1.
 */
export interface SpliceSae {
  label: string;
  sae: SaeForEval;
}

export interface SpliceOptions {
  batchPrompts: number;
  maxBatches: number | null;
  /** Keep the clean activation at special positions in the SAE replacement (SAELens with ignore_tokens). */
  excludeSpecialTokensFromReconstruction: boolean;
  /** Zero every position in the ablation, specials included (SAELens' zero_ablate_hook). */
  zeroAblateSpecialTokens: boolean;
  /**
   * Bound on tokens per Splicer call counting every copy ((S + 2) x windows x seqLen): a batch
   * is split into sub-batches of windows below it (memory), which changes no number.
   */
  maxTokensPerCall?: number;
}

/** Columns of the per-window sums; then per SAE s: SAE_KL + 2s, SAE_CE + 2s. */
export const SPLICE_COL = { tokensKl: 0, tokensCe: 1, klAbl: 2, ceAbl: 3, ceClean: 4 } as const;
export const SPLICE_BASE_COLUMNS = 5;

export interface SpliceSums {
  labels: string[];
  /** Windows done so far (rows of `values`). */
  windows: number;
  /** [windows, 5 + 2S] row-major, float64 values as plain numbers (JSON checkpoint). */
  values: number[];
  /** Batches done (a resumed attempt continues after them). */
  batchesDone: number;
  /** Batches the run covers. */
  batchesTotal: number;
}

export function spliceWidth(saes: number): number {
  return SPLICE_BASE_COLUMNS + 2 * saes;
}

/** Per-batch checkpoint, so a retried attempt resumes at the next batch. */
export interface SpliceCheckpoint {
  load(): Promise<SpliceSums | null>;
  save(sums: SpliceSums): Promise<void>;
}

export interface SpliceTiming {
  spliceSeconds: number;
  saeSeconds: number;
}

/**
 * Runs the batches (resuming after those in the checkpoint) and returns the per-window sums.
 * Windows are taken in table order, `batchPrompts` to a batch, the first `maxBatches` batches.
 */
export async function spliceSaes(
  deps: { table: ActivationTable; splicer: Splicer; saes: readonly SpliceSae[] },
  options: SpliceOptions,
  checkpoint: SpliceCheckpoint | null,
  ctx: StageContext,
): Promise<{ sums: SpliceSums; timing: SpliceTiming }> {
  const labels = deps.saes.map((s) => s.label);
  const batches = batchWindows(splitWindows(deps.table), options.batchPrompts);
  const total = options.maxBatches === null ? batches.length : Math.min(batches.length, options.maxBatches);
  const saved = await checkpoint?.load();
  const usable = saved && JSON.stringify(saved.labels) === JSON.stringify(labels) && saved.batchesTotal === total ? saved : null;
  if (usable) ctx.log.info('splice resuming', { batchesDone: usable.batchesDone, batchesTotal: total });
  const sums: SpliceSums = usable ?? { labels, windows: 0, values: [], batchesDone: 0, batchesTotal: total };
  const timing: SpliceTiming = { spliceSeconds: 0, saeSeconds: 0 };
  const width = spliceWidth(labels.length);
  const perCall = Math.max(1, Math.floor((options.maxTokensPerCall ?? Infinity) / (labels.length + 2)));
  const totalWindows = batches.slice(0, total).reduce((a, batch) => a + batch.length, 0);
  let windowsDone = sums.windows;
  for (let b = sums.batchesDone; b < total; b++) {
    throwIfAborted(ctx.signal);
    const rows = batches[b].map(() => new Float64Array(width));
    const index = new Map(batches[b].map((w, i) => [w, i]));
    for (const group of groupByLength(batches[b])) {
      const windowsPerCall = Math.max(1, Math.floor(perCall / group[0].length));
      for (let i = 0; i < group.length; i += windowsPerCall) {
        const part = group.slice(i, i + windowsPerCall);
        throwIfAborted(ctx.signal);
        await spliceGroup(deps, part, options, part.map((w) => rows[index.get(w)!]), timing);
        // Progress per model call (a whole batch of 8 copies takes a minute on 2 CPU cores).
        windowsDone += part.length;
        ctx.onProgress({ stage: 'evaluate', item: 'splice', done: windowsDone, total: totalWindows, unit: 'prompts' });
      }
    }
    for (const row of rows) sums.values.push(...row);
    sums.windows += rows.length;
    sums.batchesDone = b + 1;
    await checkpoint?.save(sums);
  }
  return { sums, timing };
}

/** One Splicer call on equal-length windows; adds each window's sums into `rows`. */
async function spliceGroup(
  deps: { table: ActivationTable; splicer: Splicer; saes: readonly SpliceSae[] },
  group: TokenWindow[],
  options: SpliceOptions,
  rows: Float64Array[],
  timing: SpliceTiming,
): Promise<void> {
  const { table } = deps;
  const seqLen = group[0].length;
  const d = table.dModel;
  const batch = group.length;
  const N = batch * seqLen;
  const inputIds = new Int32Array(N);
  const clean = new Float32Array(N * d);
  const special = new Uint8Array(N);
  group.forEach((w, i) => {
    inputIds.set(table.tokenIds.subarray(w.start, w.start + seqLen), i * seqLen);
    special.set(table.isSpecial.subarray(w.start, w.start + seqLen), i * seqLen);
    clean.set(batchRows(table, [w]).x, i * seqLen * d);
  });
  const ablated = new Float32Array(clean.length);
  const replacements = [ablated];
  let started = performance.now();
  for (const { sae } of deps.saes) {
    const { reconstruction } = await sae.forward(clean, N);
    const replaced = reconstruction.slice();
    for (let t = 0; t < N; t++) {
      if (special[t] && options.excludeSpecialTokensFromReconstruction) replaced.set(clean.subarray(t * d, (t + 1) * d), t * d);
    }
    replacements.push(replaced);
  }
  timing.saeSeconds += (performance.now() - started) / 1000;
  for (let t = 0; t < N; t++) {
    if (special[t] && !options.zeroAblateSpecialTokens) ablated.set(clean.subarray(t * d, (t + 1) * d), t * d);
  }
  started = performance.now();
  const out = await deps.splicer.spliceLosses({ inputIds, batch, seqLen, clean, replacements });
  timing.spliceSeconds += (performance.now() - started) / 1000;
  for (let t = 0; t < N; t++) {
    if (special[t]) continue;
    const row = rows[Math.floor(t / seqLen)];
    row[SPLICE_COL.tokensKl]++;
    row[SPLICE_COL.klAbl] += out.kl[0][t];
    for (let s = 0; s < deps.saes.length; s++) row[SPLICE_BASE_COLUMNS + 2 * s] += out.kl[s + 1][t];
    if (t % seqLen === seqLen - 1) continue;
    row[SPLICE_COL.tokensCe]++;
    row[SPLICE_COL.ceAbl] += out.ce[0][t];
    row[SPLICE_COL.ceClean] += out.ceClean[t];
    for (let s = 0; s < deps.saes.length; s++) row[SPLICE_BASE_COLUMNS + 2 * s + 1] += out.ce[s + 1][t];
  }
}

/** Splits a batch into runs of equal-length windows (the splicer takes rectangular batches). */
function groupByLength(batch: readonly TokenWindow[]): TokenWindow[][] {
  const byLength = new Map<number, TokenWindow[]>();
  for (const w of batch) {
    const list = byLength.get(w.length) ?? [];
    list.push(w);
    byLength.set(w.length, list);
  }
  return [...byLength.values()];
}
