import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { StageContext } from '../../lib/core/context.js';
import type { SaeForEval, Splicer } from './interfaces.js';
import { spliceSaes, type SpliceOptions, type SpliceTiming } from './splice-multi.js';
import { spliceMetrics, type SpliceMetrics } from './splice-statistics.js';

export type { SpliceOptions } from './splice-multi.js';
export type { SpliceMetrics } from './splice-statistics.js';

/**
 * Model-preservation metrics of ONE SAE (SAELens `get_recons_loss`): the multi-SAE splice with a
 * single SAE. Runs use spliceSaes over all of a run's SAEs instead (splice-eval.ts), which
 * shares the clean and ablation passes; this entry stays for single-SAE callers and tests.
 */
export interface SpliceResult {
  metrics: SpliceMetrics;
  /** Wall seconds inside Splicer.spliceLosses and inside the SAE, for the benchmark. */
  timing: SpliceTiming;
}

export async function computeSpliceScores(
  table: ActivationTable,
  sae: SaeForEval,
  splicer: Splicer,
  options: SpliceOptions,
  ctx: StageContext,
): Promise<SpliceResult> {
  const { sums, timing } = await spliceSaes({ table, splicer, saes: [{ label: 'sae', sae }] }, options, null, ctx);
  return { metrics: spliceMetrics(sums, 0), timing };
}
