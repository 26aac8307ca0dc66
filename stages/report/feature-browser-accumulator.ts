/**
 * Folds encoded batches of held-out tokens into the feature browser's data for one SAE: per
 * latent density, mean and max activation, top-activating contexts with the latent's
 * activation on every window token, an activation histogram (LatentStats), then selects a
 * bounded set of latents and adds their logit effects and decoded token strings.
 *
 * It has the shape of the evaluate stage's batch consumers (`add({ table, first, rows,
 * latents })`), so it can ride along the evals' single token pass and cost no extra encoding;
 * collectFeatureBrowserData (feature-browser-data.ts) runs its own pass when used alone.
 */
import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { FeatureBrowserVariant, LatentSummary } from '../../schemas/report.js';
import { badInput } from '../../lib/core/errors.js';
import { roundSig } from './format.js';
import { LatentStats, type ChunkWindows } from './latent-stats.js';
import { logitEffects, type LogitEffect } from './logit-effects.js';

export interface FeatureBrowserOptions {
  /** The most frequent latents always shown. */
  topFrequent: number;
  /** Further alive latents drawn by a seeded hash. */
  sample: number;
  /** Latent ids always shown (e.g. the temporal analysis' features), capped at `maxRequested`. */
  requested: number[];
  maxRequested: number;
  seed: number;
  topContexts: number;
  /** Tokens shown before / after the activating token (within its context window and document). */
  windowBefore: number;
  windowAfter: number;
  histogramBins: number;
  /** Tokens raised / lowered listed per latent. */
  logitTopK: number;
  /** Tokens per encoder call (collectFeatureBrowserData's own pass). */
  chunkTokens: number;
}

export const DEFAULT_FEATURE_BROWSER_OPTIONS: FeatureBrowserOptions = {
  topFrequent: 200,
  sample: 50,
  requested: [],
  maxRequested: 100,
  seed: 0,
  topContexts: 10,
  windowBefore: 12,
  windowAfter: 4,
  histogramBins: 32,
  logitTopK: 10,
  chunkTokens: 1024,
};

/** A batch of encoded table rows first..first+rows-1 (the evaluate stage's EncodedBatch fits). */
export interface LatentBatch {
  table: ActivationTable;
  first: number;
  rows: number;
  /** [rows, dSae] */
  latents: Float32Array;
}

export interface FinishArgs {
  /** Decodes token ids to their strings, one string per id. */
  decode: (ids: number[]) => string[];
  /** [dSae, dIn] decoder rows, needed with `unembed`. */
  decoderRows?: Float32Array | null;
  /** [vocab, dIn] unembedding W_U, or null to skip logit effects. */
  unembed?: { values: Float32Array; vocab: number } | null;
  /** Latent id -> temporal cluster id. */
  clusters?: Map<number, number>;
}

export class FeatureBrowserAccumulator {
  readonly options: FeatureBrowserOptions;
  private readonly stats: LatentStats;
  private table: ActivationTable | null = null;

  constructor(
    readonly dSae: number,
    options: Partial<FeatureBrowserOptions> = {},
  ) {
    this.options = { ...DEFAULT_FEATURE_BROWSER_OPTIONS, ...options };
    const window = this.options.windowBefore + this.options.windowAfter + 1;
    this.stats = new LatentStats(dSae, { topK: this.options.topContexts, bins: this.options.histogramBins, window });
  }

  /** Adds a batch of contiguous table rows (special rows are skipped). */
  add(batch: LatentBatch): void {
    const rows = Array.from({ length: batch.rows }, (_, r) => batch.first + r);
    this.addRows(batch.table, rows, batch.latents);
  }

  /**
   * Adds latents [tableRows.length, dSae] of the given table rows (ascending). Context windows
   * are read from the rows present, so pass whole context windows (a token outside reads 0).
   */
  addRows(table: ActivationTable, tableRows: number[], latents: Float32Array): void {
    if (this.table && this.table !== table) throw badInput('feature browser: all batches must come from one activation table');
    this.table = table;
    if (tableRows.length === 0) return;
    if (latents.length !== tableRows.length * this.dSae) throw badInput(`feature browser: ${latents.length} latent values for ${tableRows.length} rows x d_sae ${this.dSae}`);
    const active = Uint8Array.from(tableRows, (t) => (table.isSpecial[t] ? 0 : 1));
    this.stats.addChunk(latents, tableRows.length, tableRows, this.windowsOf(table, tableRows), active);
  }

  /** [dSae] firing density of every latent over the non-special tokens seen (ReportInput.featureDensity). */
  densities(): Float64Array {
    const n = Math.max(1, this.stats.tokens);
    return this.stats.count.map((c) => c / n);
  }

  /** Selects the latents and assembles their browser data. */
  async finish(args: FinishArgs): Promise<FeatureBrowserVariant> {
    const stats = this.stats;
    const table = this.table;
    const selection = selectLatents(stats, this.options);
    const tops = selection.map(({ id }) => stats.top(id));
    const effects = await this.logitEffectsOf(selection.map((s) => s.id), args);
    const tokenIds = new Set<number>();
    for (const e of tops.flat()) for (let w = 0; w < e.acts.length; w++) tokenIds.add(table!.tokenIds[e.windowStart + w]);
    for (const e of effects ?? []) [...e.upIds, ...e.downIds].forEach((id) => tokenIds.add(id));
    const idList = [...tokenIds];
    const strings = idList.length > 0 ? args.decode(idList) : [];
    if (strings.length !== idList.length) throw badInput(`decode returned ${strings.length} strings for ${idList.length} ids`);
    const text = new Map(idList.map((id, i) => [id, strings[i]]));
    const tokenText = (id: number) => text.get(id) ?? '';
    const latents: LatentSummary[] = selection.map(({ id, selectedBy }, li) => ({
      id,
      density: stats.tokens > 0 ? stats.count[id] / stats.tokens : 0,
      meanActivation: stats.count[id] > 0 ? stats.sum[id] / stats.count[id] : 0,
      maxActivation: stats.max[id],
      cluster: args.clusters?.get(id) ?? null,
      selectedBy,
      contexts: tops[li].map((e) => ({
        tokens: e.acts.map((_, w) => tokenText(table!.tokenIds[e.windowStart + w])),
        acts: e.acts.map((a) => roundSig(a, 4)),
        maxIndex: e.center,
        tokenIndex: e.token,
      })),
      histogram: stats.histogram(id),
      logitsUp: effects ? effects[li].upIds.map((t, j) => ({ token: tokenText(t), value: roundSig(effects[li].upValues[j], 4) })) : [],
      logitsDown: effects ? effects[li].downIds.map((t, j) => ({ token: tokenText(t), value: roundSig(effects[li].downValues[j], 4) })) : [],
    }));
    let alive = 0;
    for (let i = 0; i < this.dSae; i++) if (stats.count[i] > 0) alive++;
    return { dSae: this.dSae, tokensScanned: stats.tokens, aliveLatents: alive, latents };
  }

  private windowsOf(table: ActivationTable, tableRows: number[]): ChunkWindows {
    const { windowBefore, windowAfter } = this.options;
    const W = windowBefore + windowAfter + 1;
    const from = tableRows[0];
    const chunkRow = new Int32Array(tableRows[tableRows.length - 1] - from + 1).fill(-1);
    tableRows.forEach((t, r) => {
      if (!table.isSpecial[t]) chunkRow[t - from] = r;
    });
    const n = tableRows.length;
    const out: ChunkWindows = { start: new Int32Array(n), len: new Int32Array(n), center: new Int32Array(n), src: new Int32Array(n * W).fill(-1) };
    tableRows.forEach((t, r) => {
      const w = contextWindow(table, t, windowBefore, windowAfter);
      out.start[r] = w.start;
      out.len[r] = w.end - w.start;
      out.center[r] = t - w.start;
      for (let u = w.start; u < w.end; u++) if (u >= from && u - from < chunkRow.length) out.src[r * W + (u - w.start)] = chunkRow[u - from];
    });
    return out;
  }

  private async logitEffectsOf(ids: number[], args: FinishArgs): Promise<LogitEffect[] | null> {
    if (!args.unembed || ids.length === 0) return null;
    const dec = args.decoderRows;
    if (!dec || dec.length % this.dSae !== 0) throw badInput(`feature browser: logit effects need decoderRows [d_sae ${this.dSae}, d_in], got ${dec?.length ?? 'none'} values`);
    const dIn = dec.length / this.dSae;
    const directions = new Float32Array(ids.length * dIn);
    ids.forEach((id, i) => directions.set(dec.subarray(id * dIn, (id + 1) * dIn), i * dIn));
    return logitEffects({ directions, latents: ids.length, unembed: args.unembed.values, vocab: args.unembed.vocab, dModel: dIn, k: this.options.logitTopK });
  }
}

type Selected = { id: number; selectedBy: LatentSummary['selectedBy'] };

/** The most frequent alive latents, a seeded sample of the other alive ones, then requested ids. */
export function selectLatents(stats: Pick<LatentStats, 'count' | 'dSae'>, opts: Pick<FeatureBrowserOptions, 'topFrequent' | 'sample' | 'requested' | 'maxRequested' | 'seed'>): Selected[] {
  const alive: number[] = [];
  for (let i = 0; i < stats.dSae; i++) if (stats.count[i] > 0) alive.push(i);
  alive.sort((a, b) => stats.count[b] - stats.count[a] || a - b);
  const out: Selected[] = alive.slice(0, opts.topFrequent).map((id) => ({ id, selectedBy: 'frequent' }));
  const taken = new Set(out.map((s) => s.id));
  const rest = alive.slice(opts.topFrequent).sort((a, b) => hash32(opts.seed, a) - hash32(opts.seed, b) || a - b);
  for (const id of rest.slice(0, opts.sample)) {
    out.push({ id, selectedBy: 'sample' });
    taken.add(id);
  }
  for (const id of opts.requested.slice(0, opts.maxRequested)) {
    if (id < 0 || id >= stats.dSae || taken.has(id)) continue;
    out.push({ id, selectedBy: 'requested' });
    taken.add(id);
  }
  return out;
}

/** A seeded 32-bit hash of a latent id, for a reproducible sample without a PRNG stream. */
function hash32(seed: number, id: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ id;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Table rows [start, end) around `center` in its context window (same row_id, increasing
 * positions, as the evaluate stage splits windows) and its document (same doc_index).
 */
export function contextWindow(table: ActivationTable, center: number, before: number, after: number): { start: number; end: number } {
  const joined = (u: number) => table.rowIds[u] === table.rowIds[u - 1] && table.positions[u] > table.positions[u - 1] && table.docIndex[u] === table.docIndex[u - 1];
  let start = center;
  while (start > 0 && center - start < before && joined(start)) start--;
  let end = center + 1;
  while (end < table.count && end - center <= after && joined(end)) end++;
  return { start, end };
}
