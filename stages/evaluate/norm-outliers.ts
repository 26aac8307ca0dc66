/**
 * Tokens far above the typical residual norm (Gemma's attention sinks: 0.012% of Gemma 3 270M's
 * layer-6 tokens at 8-10x the median norm) are left out of training by the norm filter
 * (schemas/train.ts maxNormMultiple, as dictionary_learning's ActivationBuffer
 * max_activation_norm_multiple), and the cut is recorded in the SAE's cfg.json
 * (metadata.max_activation_norm, raw units). Evaluation leaves out the same tokens, as
 * dictionary_learning evaluates on its filtered buffer: one such token, never seen in training,
 * can carry more squared error than all other held-out tokens together (the demo's ATR SAE:
 * pooled EV -2.5 with it, per-position MSE 500x the median at its position). The exclusion is
 * reported as a deviation from SAEBench, which keeps every non-special token.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { halfLookup } from '../../lib/core/half.js';

/** The training norm cut of an SAE folder (cfg.json metadata.max_activation_norm), or null (none recorded: an external SAE). */
export async function trainingNormCut(saeDir: string): Promise<number | null> {
  try {
    const cfg = JSON.parse(await readFile(join(saeDir, 'cfg.json'), 'utf8')) as { metadata?: { max_activation_norm?: unknown } };
    const cut = cfg.metadata?.max_activation_norm;
    return typeof cut === 'number' && Number.isFinite(cut) && cut > 0 ? cut : null;
  } catch {
    return null;
  }
}

/**
 * The table with tokens whose residual norm exceeds `cut` marked like special tokens (left out of
 * every mean, kept clean in splices), and how many non-special tokens that marked. The values
 * are shared, not copied.
 */
export function excludeNormOutliers(table: ActivationTable, cut: number): { table: ActivationTable; excluded: number } {
  const { count, dModel: d, values } = table;
  const lut = values instanceof Uint16Array ? halfLookup() : null;
  const isSpecial = Uint8Array.from(table.isSpecial);
  const limit = cut * cut;
  let excluded = 0;
  for (let t = 0; t < count; t++) {
    if (isSpecial[t]) continue;
    let sq = 0;
    for (let j = t * d, end = j + d; j < end; j++) {
      const v = lut ? lut[values[j]] : values[j];
      sq += v * v;
    }
    if (sq > limit) {
      isSpecial[t] = 1;
      excluded++;
    }
  }
  return { table: { ...table, isSpecial }, excluded };
}

/** The deviation line of an exclusion. */
export function normOutlierDeviation(excluded: number, cut: number, tokens: number): string {
  return `norm_outliers_excluded: ${excluded} of ${tokens} held-out tokens have a residual norm above the SAE's training cut ${cut.toPrecision(6)} (cfg.json max_activation_norm) and are left out like special tokens, as in training (dictionary_learning max_activation_norm_multiple); SAEBench keeps them`;
}
