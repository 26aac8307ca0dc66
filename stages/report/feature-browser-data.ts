/**
 * Data of the report's feature browser for one SAE, computed standalone: streams every
 * held-out token through the encoder once, in chunks of whole context windows (special tokens
 * are not encoded), into a FeatureBrowserAccumulator, then selects a bounded set of latents
 * (the most frequent, a seeded sample of the rest, requested ids) and adds their contexts,
 * histograms and logit effects. Memory stays ~ d_sae, never ~ tokens. When the evals already
 * encode the same tokens, add the accumulator to their token pass instead (no extra pass).
 */
import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { FeatureBrowserVariant } from '../../schemas/report.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { badInput } from '../../lib/core/errors.js';
import { readRows } from './activation-rows.js';
import { FeatureBrowserAccumulator, type FeatureBrowserOptions } from './feature-browser-accumulator.js';

export { DEFAULT_FEATURE_BROWSER_OPTIONS, FeatureBrowserAccumulator, type FeatureBrowserOptions } from './feature-browser-accumulator.js';

/** What the feature browser needs from an SAE (the evaluate stage's SaeForEval fits). */
export interface SaeEncoder {
  /** [rows, dIn] inputs -> [rows, dSae] latent activations (after the variant's nonlinearity). */
  encode(x: Float32Array, rows: number): Promise<Float32Array>;
  /** [dSae, dIn] decoder rows W_dec (in the input space of the activations). */
  decoderRows(): Float32Array;
  dSae: number;
  dIn: number;
}

export interface CollectFeatureBrowserArgs {
  encoder: SaeEncoder;
  table: ActivationTable;
  /** Decodes token ids to their strings, one string per id. */
  decode: (ids: number[]) => string[];
  /** [vocab, dModel] unembedding W_U, or null to skip logit effects. */
  unembed?: { values: Float32Array; vocab: number } | null;
  /** Latent id -> temporal cluster id. */
  clusters?: Map<number, number>;
  options?: Partial<FeatureBrowserOptions>;
}

/** Computes the browser data of one SAE. Progress unit: non-special tokens encoded. */
export async function collectFeatureBrowserData(args: CollectFeatureBrowserArgs, ctx: StageContext): Promise<FeatureBrowserVariant> {
  const { encoder, table } = args;
  if (table.dModel !== encoder.dIn) throw badInput(`activation table has d_model ${table.dModel}, the SAE expects d_in ${encoder.dIn}`, { field: 'table.dModel' });
  const acc = new FeatureBrowserAccumulator(encoder.dSae, args.options);
  let eligible = 0;
  for (let t = 0; t < table.count; t++) if (!table.isSpecial[t]) eligible++;
  const started = performance.now();
  let done = 0;
  for (let from = 0; from < table.count; ) {
    throwIfAborted(ctx.signal);
    const { to, rows } = nextChunk(table, from, acc.options.chunkTokens);
    if (rows.length > 0) {
      const latents = await encoder.encode(readRows(table, rows), rows.length);
      if (latents.length !== rows.length * encoder.dSae) throw badInput(`encoder returned ${latents.length} values for ${rows.length} rows x d_sae ${encoder.dSae}`);
      acc.addRows(table, rows, latents);
      done += rows.length;
      ctx.onProgress({ stage: 'report', item: 'features', done, total: eligible, unit: 'tokens', rate: done / Math.max(1e-3, (performance.now() - started) / 1000) });
    }
    from = to;
  }
  throwIfAborted(ctx.signal);
  return acc.finish({ decode: args.decode, decoderRows: args.unembed ? encoder.decoderRows() : null, unembed: args.unembed ?? null, clusters: args.clusters });
}

/** Non-special rows of whole context windows (same row_id) from `from`, about `chunkTokens` of them. */
function nextChunk(table: ActivationTable, from: number, chunkTokens: number): { to: number; rows: number[] } {
  const rows: number[] = [];
  let t = from;
  while (t < table.count) {
    let end = t + 1;
    while (end < table.count && table.rowIds[end] === table.rowIds[t]) end++;
    let eligible = 0;
    for (let u = t; u < end; u++) if (!table.isSpecial[u]) eligible++;
    if (rows.length > 0 && rows.length + eligible > chunkTokens) break;
    for (let u = t; u < end; u++) if (!table.isSpecial[u]) rows.push(u);
    t = end;
  }
  return { to: t, rows };
}
