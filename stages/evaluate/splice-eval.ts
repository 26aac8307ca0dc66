import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { SpliceEvalOutput, type CoreEvalConfig, type CoreEvalOutput } from '../../schemas/eval.js';
import { canonicalJson, fileExists, sha256Hex, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import type { StageContext } from '../../lib/core/context.js';
import { badInput } from '../../lib/core/errors.js';
import type { Device } from '../../lib/onnx/backend.js';
import { concatActivationTables } from '../extract/concat-tables.js';
import { excludeNormOutliers, normOutlierDeviation } from './norm-outliers.js';
import { readActivationShard } from '../extract/activation-shard-io.js';
import { validateActivations } from '../extract/validate-activations.js';
import { createSplicer } from '../model/splice.js';
import { loadSae } from '../train/sae-runtime.js';
import { bootstrapIndices } from './bootstrap.js';
import { deterministicUuid } from './eval-id.js';
import { promptBootstrap } from './eval-core.js';
import { readValidJson } from './eval-files.js';
import type { Splicer } from './interfaces.js';
import { spliceSaes, type SpliceCheckpoint, type SpliceSae, type SpliceSums } from './splice-multi.js';
import { spliceIntervals, spliceMetrics } from './splice-statistics.js';

/**
 * The run-level KL / CE eval (issue 13): every SAE of a run spliced into the model in one pass
 * over the eval windows (clean and ablation once per batch). Plain-data input so the lead's
 * run-level activity can call it after all SAEs are trained; writes `splice.json` (all SAEs in
 * one file, SpliceEvalOutput) and `splice-checkpoint.json` after every batch, from which a
 * retried attempt resumes. mergeSpliceIntoCore puts an SAE's numbers into its core.json shape.
 */
export interface SpliceEvalInput {
  /** Prepared model folder (transformers.js ONNX layout). */
  modelDir: string;
  /** Hooked layer (residual after block `layer`). */
  layer: number;
  /** The SAEs: a label (the variant label used in metrics.json) and the trained SAE folder. */
  saes: { label: string; dir: string }[];
  /** Held-out activation part files (.arrow), concatenated in this order (the windows). */
  activationFiles: string[];
  /** spec.evaluate.options.core (parsed): batch_size_prompts, n_eval_reconstruction_batches, bootstrap_*, ... */
  options: CoreEvalConfig;
  device?: Device;
  threads?: number;
  /** Where derived model graphs go (as for createSplicer). */
  graphDir?: string;
  /** Content key of the inputs (SAE and data artifact keys), folded into eval_id and the checkpoint key. */
  inputKey?: string;
  /** Norm cut of the run's SAEs (the smallest training cut; norm-outliers.ts); tokens above it stay clean and out of the means when options.exclude_norm_outliers. */
  normCut?: number | null;
}

/** Already-open resources a caller may pass instead of paths (tests, a worker holding them). */
export interface SpliceEvalDeps {
  table?: ActivationTable;
  splicer?: Splicer;
  /** Same order and labels as input.saes. */
  saes?: SpliceSae[];
}

export const SPLICE_FILES = { output: 'splice.json', checkpoint: 'splice-checkpoint.json' } as const;

export interface SpliceEvalSummary {
  file: string;
  resumed: boolean;
  output: SpliceEvalOutput;
  /** Wall seconds (not in the deterministic output file). */
  timing: Record<string, number>;
}

export const SPLICE_DEFINITIONS: Record<string, string> = {
  kl_div_score: '(KL_ablation - KL_sae) / KL_ablation, KL(p_clean || p_new) summed over the vocabulary, mean over non-special tokens (SAELens get_recons_loss)',
  ce_loss_score: '(CE_ablation - CE_sae) / (CE_ablation - CE_clean), zero ablation, mean over non-special tokens with a next token',
  passes: 'per batch: the clean suffix pass and the zero ablation once, then one spliced pass per SAE (not 3 passes per SAE)',
  clean: 'the clean residual is the stored eval activation (float16 shards: rounded), the same input the SAE sees',
  uncertainty: 'percentile bootstrap over prompts, scores recomputed from resampled sums; the same resample rows for every SAE (paired)',
};

export async function evaluateSplice(input: SpliceEvalInput, outDir: string, ctx: StageContext, deps: SpliceEvalDeps = {}): Promise<SpliceEvalSummary> {
  const file = SPLICE_FILES.output;
  const previous = await readValidJson(join(outDir, file), SpliceEvalOutput);
  if (previous) return { file, resumed: true, output: previous, timing: {} };
  if (input.saes.length === 0) throw badInput('evaluateSplice: no SAEs given');
  const labels = input.saes.map((s) => s.label);
  if (new Set(labels).size !== labels.length) throw badInput(`evaluateSplice: SAE labels must be distinct, got ${labels.join(', ')}`);
  const started = performance.now();
  const opened = await openResources(input, deps);
  try {
    const o = input.options;
    const cut = o.exclude_norm_outliers && input.normCut ? input.normCut : null;
    const filtered = cut ? excludeNormOutliers(opened.table, cut) : { table: opened.table, excluded: 0 };
    const key = sha256Hex(canonicalJson({ labels, key: input.inputKey ?? null, layer: input.layer, o, count: opened.table.count, cut }));
    const { sums, timing } = await spliceSaes(
      { table: filtered.table, splicer: opened.splicer, saes: opened.saes },
      {
        batchPrompts: o.batch_size_prompts,
        maxBatches: o.n_eval_reconstruction_batches,
        excludeSpecialTokensFromReconstruction: o.exclude_special_tokens_from_reconstruction,
        zeroAblateSpecialTokens: o.zero_ablate_special_tokens,
        maxTokensPerCall: o.max_tokens_per_splice_call,
      },
      fileSpliceCheckpoint(join(outDir, SPLICE_FILES.checkpoint), key),
      ctx,
    );
    const spliced = spliceOutput(sums, o, deterministicUuid(canonicalJson({ family: 'splice', key })));
    const output = cut && filtered.excluded > 0 ? { ...spliced, deviations: [...spliced.deviations, normOutlierDeviation(filtered.excluded, cut, opened.table.count)] } : spliced;
    await writeJsonAtomic(join(outDir, file), output);
    return { file, resumed: false, output, timing: { total_seconds: (performance.now() - started) / 1000, model_seconds: timing.spliceSeconds, sae_seconds: timing.saeSeconds } };
  } finally {
    await opened.dispose();
  }
}

/** The SpliceEvalOutput of finished sums. */
export function spliceOutput(sums: SpliceSums, config: CoreEvalConfig, evalId: string): SpliceEvalOutput {
  const indices = bootstrapIndices(sums.windows, config.bootstrap_resamples, config.bootstrap_seed);
  const saes: SpliceEvalOutput['saes'] = {};
  sums.labels.forEach((label, s) => {
    const m = spliceMetrics(sums, s);
    saes[label] = {
      model_behavior_preservation: { kl_div_score: m.kl_div_score, kl_div_with_ablation: m.kl_div_with_ablation, kl_div_with_sae: m.kl_div_with_sae },
      model_performance_preservation: { ce_loss_score: m.ce_loss_score, ce_loss_with_ablation: m.ce_loss_with_ablation, ce_loss_with_sae: m.ce_loss_with_sae, ce_loss_without_sae: m.ce_loss_without_sae },
      eval_result_uncertainty: promptBootstrap(config, 1, config.bootstrap_resamples > 0 ? spliceIntervals(sums, s, indices, config.confidence_level) : {}),
    };
  });
  const first = spliceMetrics(sums, 0);
  const wanted = config.n_eval_reconstruction_batches;
  const deviations =
    wanted !== null && sums.batchesDone < wanted
      ? [`fewer_batches_than_requested: ${sums.batchesDone} of ${wanted} batches (${sums.windows} prompts); the eval set holds fewer windows than n_eval_reconstruction_batches x batch_size_prompts`]
      : [];
  return {
    eval_type_id: 'splice',
    eval_id: evalId,
    datetime_epoch_millis: 0,
    definitions: SPLICE_DEFINITIONS,
    eval_config: config,
    sae_labels: sums.labels,
    deviations,
    token_stats: { prompts: sums.windows, batches: sums.batchesDone, total_tokens_eval_reconstruction: first.tokens, total_tokens_eval_ce: first.tokens_ce },
    saes,
  };
}

/** An SAE's core.json with the run-level splice numbers, intervals and token count filled in. */
export function mergeSpliceIntoCore(core: CoreEvalOutput, splice: SpliceEvalOutput, label = core.sae_label): CoreEvalOutput {
  const entry = splice.saes[label];
  if (!entry) throw badInput(`splice.json has no SAE labelled '${label}'; it has ${Object.keys(splice.saes).join(', ')}`);
  const rest: CoreEvalOutput = { ...core };
  delete rest.status;
  return {
    ...rest,
    ...(splice.deviations.length > 0 ? { deviations: [...(core.deviations ?? []), ...splice.deviations] } : {}),
    eval_result_metrics: {
      ...core.eval_result_metrics,
      model_behavior_preservation: entry.model_behavior_preservation,
      model_performance_preservation: entry.model_performance_preservation,
      token_stats: { ...core.eval_result_metrics.token_stats, total_tokens_eval_reconstruction: splice.token_stats.total_tokens_eval_reconstruction },
    },
    eval_result_uncertainty: {
      ...core.eval_result_uncertainty,
      intervals: { ...core.eval_result_uncertainty.intervals, ...entry.eval_result_uncertainty.intervals },
    },
  };
}

function fileSpliceCheckpoint(path: string, key: string): SpliceCheckpoint {
  return {
    async load() {
      if (!(await fileExists(path))) return null;
      try {
        const body = JSON.parse(await readFile(path, 'utf8')) as { key: string; sums: SpliceSums };
        return body.key === key ? body.sums : null;
      } catch {
        return null;
      }
    },
    save: (sums) => writeJsonAtomic(path, { key, sums }),
  };
}

async function openResources(input: SpliceEvalInput, deps: SpliceEvalDeps): Promise<{ table: ActivationTable; splicer: Splicer; saes: SpliceSae[]; dispose(): Promise<void> }> {
  const toDispose: { dispose(): Promise<void> }[] = [];
  try {
    const table = deps.table ?? (await readTable(input.activationFiles));
    let splicer = deps.splicer;
    if (!splicer) {
      const created = await createSplicer({ modelDir: input.modelDir, layer: input.layer, device: input.device, intraOpThreads: input.threads, graphDir: input.graphDir });
      toDispose.push(created);
      splicer = created;
    }
    let saes = deps.saes;
    if (!saes) {
      saes = [];
      for (const s of input.saes) {
        const runtime = await loadSae(s.dir, { device: input.device, threads: input.threads });
        toDispose.push(runtime);
        if (runtime.dIn !== table.dModel) throw badInput(`${s.dir}: SAE d_in ${runtime.dIn} differs from the activations' width ${table.dModel}`);
        saes.push({ label: s.label, sae: runtime });
      }
    }
    return { table, splicer, saes, dispose: async () => void (await Promise.all(toDispose.map((r) => r.dispose()))) };
  } catch (error) {
    await Promise.all(toDispose.map((r) => r.dispose()));
    throw error;
  }
}

async function readTable(files: string[]): Promise<ActivationTable> {
  if (files.length === 0) throw badInput('evaluateSplice: no activation files given');
  const tables = [];
  for (const f of files) {
    const t = await readActivationShard(f);
    validateActivations(t, f, tables[0]?.dModel);
    tables.push(t);
  }
  return tables.length === 1 ? tables[0] : concatActivationTables(tables);
}
