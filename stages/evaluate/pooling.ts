import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import type { CsrData } from './design-matrix.js';
import type { EvalTokenizer, SaeForEval, Splicer } from './interfaces.js';

/**
 * Mean pooling over the non-special tokens of each text, of the model residual and of each
 * SAE's latents (SAEBench `create_meaned_model_activations` / `get_sae_meaned_activations`).
 * The residuals are computed once and shared by every SAE, so variants cost one model pass.
 */
export interface PooledActivations {
  count: number;
  /** [count, dIn] */
  residual: Float32Array;
  /** Per SAE (in the order given), pooled latents [count, dSae] as CSR (mean-pooled latents stay sparse). */
  latents: CsrData[];
}

/**
 * Pools one rectangular batch.
 * @param residuals  [batch, seqLen, dIn]
 * @param keep       [batch, seqLen], 1 where the token is pooled (not special, not padding)
 */
export async function poolBatch(
  residuals: Float32Array,
  keep: Uint8Array,
  batch: number,
  seqLen: number,
  dIn: number,
  saes: readonly SaeForEval[],
): Promise<{ residual: Float32Array; latents: Float32Array[] }> {
  const kept: number[] = [];
  for (let t = 0; t < batch * seqLen; t++) if (keep[t]) kept.push(t);
  const counts = new Float64Array(batch);
  for (const t of kept) counts[Math.floor(t / seqLen)]++;
  const x = new Float32Array(kept.length * dIn);
  kept.forEach((t, r) => x.set(residuals.subarray(t * dIn, (t + 1) * dIn), r * dIn));
  const residual = meanRows(x, kept, counts, seqLen, dIn, batch);
  const latents: Float32Array[] = [];
  for (const sae of saes) {
    const f = kept.length ? await sae.encode(x, kept.length) : new Float32Array(0);
    latents.push(meanRows(f, kept, counts, seqLen, sae.dSae, batch));
  }
  return { residual, latents };
}

/** out[b] = mean of the rows of `values` whose token belongs to example b; zeros when none. */
function meanRows(values: Float32Array, kept: number[], counts: Float64Array, seqLen: number, width: number, batch: number): Float32Array {
  const sums = new Float64Array(batch * width);
  kept.forEach((t, r) => {
    const b = Math.floor(t / seqLen);
    for (let j = 0; j < width; j++) sums[b * width + j] += values[r * width + j];
  });
  const out = new Float32Array(batch * width);
  for (let b = 0; b < batch; b++) {
    if (counts[b] === 0) continue;
    for (let j = 0; j < width; j++) out[b * width + j] = sums[b * width + j] / counts[b];
  }
  return out;
}

/**
 * Tokenizes `texts` (truncated to `contextLength` tokens, BOS included when the tokenizer adds
 * one), runs the model up to the hook in batches right-padded with `padId`, and pools.
 */
export async function collectPooledActivations(
  texts: readonly string[],
  deps: { tokenizer: EvalTokenizer; splicer: Splicer; saes: readonly SaeForEval[]; dIn: number },
  options: { contextLength: number; batchSize: number; label: string },
  ctx: StageContext,
): Promise<PooledActivations> {
  const { tokenizer, splicer, saes, dIn } = deps;
  const special = new Set(tokenizer.specialIds);
  special.add(tokenizer.padId);
  const residual = new Float32Array(texts.length * dIn);
  const builders = saes.map((sae) => new CsrBuilder(sae.dSae));
  for (let start = 0; start < texts.length; start += options.batchSize) {
    throwIfAborted(ctx.signal);
    const ids = texts.slice(start, start + options.batchSize).map((t) => tokenizer.encode(t).slice(0, options.contextLength));
    const batch = ids.length;
    const seqLen = Math.max(1, ...ids.map((x) => x.length));
    const inputIds = new Int32Array(batch * seqLen).fill(tokenizer.padId);
    const keep = new Uint8Array(batch * seqLen);
    ids.forEach((row, b) => row.forEach((id, t) => {
      inputIds[b * seqLen + t] = id;
      keep[b * seqLen + t] = special.has(id) ? 0 : 1;
    }));
    const resid = await splicer.residuals(inputIds, batch, seqLen);
    const pooled = await poolBatch(resid, keep, batch, seqLen, dIn, saes);
    residual.set(pooled.residual, start * dIn);
    pooled.latents.forEach((f, s) => builders[s].addRows(f, batch));
    ctx.onProgress({ stage: 'evaluate', item: options.label, done: start + batch, total: texts.length, unit: 'texts' });
  }
  return { count: texts.length, residual, latents: builders.map((b) => b.finish()) };
}

/** Appends dense rows into CSR storage. */
export class CsrBuilder {
  private readonly cols: number;
  private rows = 0;
  private indptr: number[] = [0];
  private indices: number[] = [];
  private data: number[] = [];

  constructor(cols: number) {
    this.cols = cols;
  }

  addRows(dense: Float32Array, rows: number): void {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < this.cols; j++) {
        const v = dense[r * this.cols + j];
        if (v !== 0) {
          this.indices.push(j);
          this.data.push(v);
        }
      }
      this.indptr.push(this.indices.length);
      this.rows++;
    }
  }

  finish(): CsrData {
    return { rows: this.rows, cols: this.cols, indptr: Int32Array.from(this.indptr), indices: Int32Array.from(this.indices), data: Float32Array.from(this.data) };
  }
}
