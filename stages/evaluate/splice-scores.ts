import type { ActivationTable } from '../../schemas/activation-shard.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { batchRows, batchWindows, splitWindows, type TokenWindow } from './activation-windows.js';
import type { SaeForEval, Splicer } from './interfaces.js';

/**
 * Model-preservation metrics by splicing the SAE reconstruction (and a zero ablation) into the
 * model at the hooked layer, as SAELens `get_recons_loss`:
 *   kl_div_score  = (KL_ablation - KL_sae) / KL_ablation
 *   ce_loss_score = (CE_ablation - CE_sae) / (CE_ablation - CE_clean)
 * KL = KL(p_clean || p_new) summed over the vocabulary. Each term is the mean over tokens whose
 * input token is not special (a CE term at t predicts t + 1 and is kept when token t is).
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
}

export interface SpliceOptions {
  batchPrompts: number;
  maxBatches: number | null;
  /** Keep the clean activation at special positions in the SAE replacement (SAELens with ignore_tokens). */
  excludeSpecialTokensFromReconstruction: boolean;
  /** Zero every position in the ablation, specials included (SAELens' zero_ablate_hook). */
  zeroAblateSpecialTokens: boolean;
  /** The table holds residuals times this factor (extract scaling); 1 when raw. */
  scaleFactor?: number;
}

export interface SpliceResult {
  metrics: SpliceMetrics;
  /** Wall seconds inside Splicer.spliceLosses and inside the SAE, for the benchmark. */
  timing: { spliceSeconds: number; saeSeconds: number };
}

export async function computeSpliceScores(
  table: ActivationTable,
  sae: SaeForEval,
  splicer: Splicer,
  options: SpliceOptions,
  ctx: StageContext,
): Promise<SpliceResult> {
  const sums = { klSae: 0, klAbl: 0, klN: 0, ceSae: 0, ceAbl: 0, ceClean: 0, ceN: 0 };
  const timing = { spliceSeconds: 0, saeSeconds: 0 };
  const batches = batchWindows(splitWindows(table), options.batchPrompts);
  const total = options.maxBatches === null ? batches.length : Math.min(batches.length, options.maxBatches);
  for (let b = 0; b < total; b++) {
    throwIfAborted(ctx.signal);
    for (const group of groupByLength(batches[b])) {
      await spliceGroup(table, sae, splicer, group, options, sums, timing);
    }
    ctx.onProgress({ stage: 'evaluate', item: 'splice', done: b + 1, total, unit: 'batches' });
  }
  const kl = { sae: sums.klSae / sums.klN, abl: sums.klAbl / sums.klN };
  const ce = { sae: sums.ceSae / sums.ceN, abl: sums.ceAbl / sums.ceN, clean: sums.ceClean / sums.ceN };
  return {
    metrics: {
      kl_div_score: (kl.abl - kl.sae) / kl.abl,
      kl_div_with_ablation: kl.abl,
      kl_div_with_sae: kl.sae,
      ce_loss_score: (ce.abl - ce.sae) / (ce.abl - ce.clean),
      ce_loss_with_ablation: ce.abl,
      ce_loss_with_sae: ce.sae,
      ce_loss_without_sae: ce.clean,
      tokens: sums.klN,
    },
    timing,
  };
}

async function spliceGroup(
  table: ActivationTable,
  sae: SaeForEval,
  splicer: Splicer,
  group: TokenWindow[],
  options: SpliceOptions,
  sums: { klSae: number; klAbl: number; klN: number; ceSae: number; ceAbl: number; ceClean: number; ceN: number },
  timing: { spliceSeconds: number; saeSeconds: number },
): Promise<void> {
  const seqLen = group[0].length;
  const d = table.dModel;
  const batch = group.length;
  const inputIds = new Int32Array(batch * seqLen);
  const clean = new Float32Array(batch * seqLen * d);
  const special = new Uint8Array(batch * seqLen);
  group.forEach((w, i) => {
    inputIds.set(table.tokenIds.subarray(w.start, w.start + seqLen), i * seqLen);
    special.set(table.isSpecial.subarray(w.start, w.start + seqLen), i * seqLen);
    clean.set(batchRows(table, [w], options.scaleFactor ?? 1).x, i * seqLen * d);
  });
  let started = performance.now();
  const { reconstruction } = await sae.forward(clean, batch * seqLen);
  timing.saeSeconds += (performance.now() - started) / 1000;
  const replaced = reconstruction.slice();
  const ablated = new Float32Array(clean.length);
  for (let t = 0; t < batch * seqLen; t++) {
    if (!special[t]) continue;
    if (options.excludeSpecialTokensFromReconstruction) replaced.set(clean.subarray(t * d, (t + 1) * d), t * d);
    if (!options.zeroAblateSpecialTokens) ablated.set(clean.subarray(t * d, (t + 1) * d), t * d);
  }
  started = performance.now();
  const out = await splicer.spliceLosses({ inputIds, batch, seqLen, clean, replacements: [replaced, ablated] });
  timing.spliceSeconds += (performance.now() - started) / 1000;
  for (let t = 0; t < batch * seqLen; t++) {
    if (special[t]) continue;
    sums.klSae += out.kl[0][t];
    sums.klAbl += out.kl[1][t];
    sums.klN++;
    if (t % seqLen === seqLen - 1) continue;
    sums.ceSae += out.ce[0][t];
    sums.ceAbl += out.ce[1][t];
    sums.ceClean += out.ceClean[t];
    sums.ceN++;
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
