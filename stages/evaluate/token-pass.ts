import type { ActivationTable } from '../../schemas/activation-shard.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { batchRows, batchWindows, splitWindows, type TokenWindow } from './activation-windows.js';
import type { SaeForEval } from './interfaces.js';

/** One batch of context windows pushed through the SAE. Tensors are row-major over the batch's tokens. */
export interface EncodedBatch {
  table: ActivationTable;
  windows: readonly TokenWindow[];
  /** Table row of the batch's first token. */
  first: number;
  /** Number of tokens in the batch. */
  rows: number;
  /** [rows, dIn] */
  x: Float32Array;
  /** [rows, dIn] */
  reconstruction: Float32Array;
  /** [rows, dSae] */
  latents: Float32Array;
}

/** Something that folds encoded batches into a result (core metrics, temporal statistics). */
export interface BatchConsumer {
  add(batch: EncodedBatch): void;
}

/**
 * Encodes the table's windows in batches of `batchPrompts` windows (SAEBench's
 * batch_size_prompts; the legacy explained variance centres each batch on its own mean) and
 * hands every batch to each consumer. Stops after `maxBatches` batches when given.
 */
export async function runTokenPass(
  table: ActivationTable,
  sae: SaeForEval,
  options: { batchPrompts: number; maxBatches: number | null },
  consumers: readonly BatchConsumer[],
  ctx: StageContext,
): Promise<{ batches: number; tokens: number }> {
  const batches = batchWindows(splitWindows(table), options.batchPrompts);
  const total = options.maxBatches === null ? batches.length : Math.min(batches.length, options.maxBatches);
  let tokens = 0;
  for (let b = 0; b < total; b++) {
    throwIfAborted(ctx.signal);
    const { x, rows, first } = batchRows(table, batches[b]);
    const { latents, reconstruction } = await sae.forward(x, rows);
    const batch: EncodedBatch = { table, windows: batches[b], first, rows, x, reconstruction, latents };
    for (const consumer of consumers) consumer.add(batch);
    tokens += rows;
    ctx.onProgress({ stage: 'evaluate', item: 'sae pass', done: b + 1, total, unit: 'batches' });
  }
  return { batches: total, tokens };
}
