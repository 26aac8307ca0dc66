import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import type {
  AbsorptionEvalOutput,
  CoreEvalOutput,
  EvalFamily,
  EvalOptions,
  SparseProbingEvalOutput,
  TemporalEvalOutput,
} from '../../schemas/eval.js';
import { canonicalJson, sha256Hex, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import type { StageContext } from '../../lib/core/context.js';
import { badConfig } from '../../lib/core/errors.js';
import { buildWordInputs } from './absorption/absorption-inputs.js';
import { firstLetterIndex } from './absorption/words.js';
import { absorptionOutput, runAbsorptionEval, wordsPerLetter } from './eval-absorption.js';
import { coreOutput, runCoreEval } from './eval-core.js';
import { deterministicUuid } from './eval-id.js';
import { EVAL_FILES, fileTaskCheckpoint, loadWordInputs, readValidJson, saveWordInputs, writeFloat32 } from './eval-files.js';
import { runSparseProbingEval, sparseProbingOutput } from './eval-sparse-probing.js';
import { runTemporalEval, temporalOutput } from './eval-temporal.js';
import { excludeNormOutliers, normOutlierDeviation } from './norm-outliers.js';
import type { EvalTokenizer, ProbeExample, SaeForEval, Splicer } from './interfaces.js';
import { SCHEMAS_BY_FAMILY } from './output-schemas.js';
import { loadLabelledTextFile } from './probe-datasets.js';

/** What one SAE's evals need; each family checks for its own parts. */
export interface EvaluateDeps {
  /** Variant label written into the outputs. */
  label: string;
  sae: SaeForEval;
  /** Held-out activations (core, temporal). */
  table?: ActivationTable;
  /** The model around the hooked layer (absorption, sparse probing; core's KL/CE is the run-level evaluateSplice). */
  splicer?: Splicer;
  tokenizer?: EvalTokenizer;
  /** Labelled texts (sparse probing), e.g. from stages/corpus/probe-tasks.ts. */
  probeExamples?: readonly ProbeExample[];
  /** Content key of the inputs (SAE, data), folded into the deterministic eval id. */
  inputKey?: string;
  /** Folder for model-level results shared by every SAE's eval (the absorption ground-truth probes). */
  cacheDir?: string;
  /** The SAE's training norm cut (norm-outliers.ts trainingNormCut); null or absent: none. */
  normCut?: number | null;
}

export type EvalOutput = CoreEvalOutput | AbsorptionEvalOutput | SparseProbingEvalOutput | TemporalEvalOutput;

export interface EvaluateSummary {
  family: EvalFamily;
  /** The family's JSON, relative to the eval folder. */
  file: string;
  /** True when a complete output from an earlier attempt was returned as is. */
  resumed: boolean;
  output: EvalOutput;
  /** Wall seconds of the eval's parts (not stored in the output file, which is deterministic). */
  timing?: Record<string, number>;
}

const SCHEMAS = SCHEMAS_BY_FAMILY;

/**
 * Runs one eval family on one SAE and writes `<family>.json` (plus its side files) into outDir.
 * A valid `<family>.json` left by an earlier attempt is returned untouched; sparse probing and
 * absorption also resume from their per-task / word-residual checkpoints.
 */
export async function evaluateSae(family: EvalFamily, options: EvalOptions, deps: EvaluateDeps, outDir: string, ctx: StageContext): Promise<EvaluateSummary> {
  await mkdir(outDir, { recursive: true });
  const file = EVAL_FILES[family];
  const previous = await readValidJson(join(outDir, file), SCHEMAS[family]);
  if (previous) {
    ctx.log.info('eval output found, resuming', { family, file });
    return { family, file, resumed: true, output: previous as EvalOutput };
  }
  // Outputs are deterministic artifacts (same inputs, same bytes): the eval id derives from the
  // inputs, and wall times go to the returned summary (the artifact manifest), not the file.
  const header = { eval_id: deterministicUuid(canonicalJson({ family, label: deps.label, key: deps.inputKey ?? null, options: options[family] })), datetime_epoch_millis: 0, sae_label: deps.label };
  const started = performance.now();
  const output = await runFamily(family, options, deps, outDir, header, ctx);
  const timing = { ...output.timing, total_seconds: (performance.now() - started) / 1000 };
  output.timing = {};
  await writeJsonAtomic(join(outDir, file), output);
  return { family, file, resumed: false, output, timing };
}

type Header = { eval_id: string; datetime_epoch_millis: number; sae_label: string };

/** The held-out table, with tokens above the SAE's training norm cut left out when asked (norm-outliers.ts). */
function heldOutTable(deps: EvaluateDeps, family: EvalFamily, exclude: boolean): { table: ActivationTable; deviations: string[] } {
  const table = need(deps.table, family, 'table (held-out activations)');
  if (!exclude || !deps.normCut) return { table, deviations: [] };
  const filtered = excludeNormOutliers(table, deps.normCut);
  return { table: filtered.table, deviations: filtered.excluded > 0 ? [normOutlierDeviation(filtered.excluded, deps.normCut, table.count)] : [] };
}

async function runFamily(family: EvalFamily, options: EvalOptions, deps: EvaluateDeps, outDir: string, header: Header, ctx: StageContext): Promise<EvalOutput> {
  switch (family) {
    case 'core': {
      const { table, deviations } = heldOutTable(deps, family, options.core.exclude_norm_outliers);
      const result = await runCoreEval({ table, sae: deps.sae }, options.core, ctx);
      await writeJsonAtomic(join(outDir, EVAL_FILES.coreFeatureStats), {
        feature_density: Array.from(result.core.featureDensity),
        consistent_activation_heuristic: Array.from(result.core.consistentActivation),
      });
      const output = coreOutput(result, options.core, header);
      return deviations.length > 0 ? { ...output, deviations: [...(output.deviations ?? []), ...deviations] } : output;
    }
    case 'temporal': {
      const { table, deviations } = heldOutTable(deps, family, options.temporal.exclude_norm_outliers);
      const result = await runTemporalEval({ table, sae: deps.sae }, options.temporal, ctx);
      if (options.temporal.write_activity_matrix) {
        await writeFloat32(join(outDir, EVAL_FILES.temporalActivity), result.stats.firingRate);
        await writeJsonAtomic(join(outDir, EVAL_FILES.temporalActivityInfo), {
          file: EVAL_FILES.temporalActivity, dtype: 'float32', byteOrder: 'little', shape: [deps.sae.dSae, result.stats.positions.length],
          positions: result.stats.positions, measure: 'firing rate: share of non-special tokens at the position where the latent is > 0',
        });
      }
      const output = temporalOutput(result, options.temporal, header);
      return deviations.length > 0 ? { ...output, deviations } : output;
    }
    case 'absorption':
      return absorptionFamily(options, deps, outDir, header, ctx);
    case 'sparse_probing':
      return sparseProbingFamily(options, deps, outDir, header, ctx);
  }
}

async function absorptionFamily(options: EvalOptions, deps: EvaluateDeps, outDir: string, header: Header, ctx: StageContext): Promise<AbsorptionEvalOutput> {
  const config = options.absorption;
  const tokenizer = need(deps.tokenizer, 'absorption', 'tokenizer');
  const splicer = need(deps.splicer, 'absorption', 'splicer (model)');
  const key = sha256Hex(canonicalJson({ ...config, dIn: deps.sae.dIn }));
  let started = performance.now();
  let inputs = await loadWordInputs(outDir, key, firstLetterIndex);
  if (!inputs) {
    inputs = await buildWordInputs(
      { tokenizer, splicer, dIn: deps.sae.dIn },
      { seed: config.random_seed, template: config.prompt_template, tokenPosition: config.prompt_token_pos, maxIclExamples: config.max_icl_examples,
        trainFraction: config.train_test_fraction, vocabLimit: config.vocab_limit, batchSize: config.llm_batch_size,
        perLetter: config.stratify_by_letter ? { train: config.train_words_per_letter, test: config.test_words_per_letter } : null },
      ctx,
    );
    await saveWordInputs(outDir, key, inputs);
  }
  const timing: Record<string, number> = { word_residuals_seconds: (performance.now() - started) / 1000 };
  started = performance.now();
  const [outcome] = await runAbsorptionEval(inputs, [deps.sae], config, ctx, deps.cacheDir);
  timing.probes_seconds = (performance.now() - started) / 1000;
  return absorptionOutput(outcome, wordsPerLetter(inputs), config, { ...header, timing });
}

async function sparseProbingFamily(options: EvalOptions, deps: EvaluateDeps, outDir: string, header: Header, ctx: StageContext): Promise<SparseProbingEvalOutput> {
  const config = options.sparse_probing;
  const tokenizer = need(deps.tokenizer, 'sparse_probing', 'tokenizer');
  const splicer = need(deps.splicer, 'sparse_probing', 'splicer (model)');
  const examples: ProbeExample[] = [...(deps.probeExamples ?? [])];
  for (const path of config.dataset_files) examples.push(...(await loadLabelledTextFile(path)));
  const started = performance.now();
  const key = sha256Hex(canonicalJson({ ...config, dIn: deps.sae.dIn, examples: sha256Hex(canonicalJson(examples)) }));
  const tasks = await runSparseProbingEval(examples, { tokenizer, splicer, dIn: deps.sae.dIn, saes: [deps.sae] }, config, ctx, fileTaskCheckpoint(outDir, key));
  return sparseProbingOutput(tasks, 0, config, { ...header, timing: { probing_seconds: (performance.now() - started) / 1000 } });
}

function need<T>(value: T | undefined, family: EvalFamily, what: string): T {
  if (value === undefined) throw badConfig(`eval family '${family}' needs a ${what}; none was given to evaluateSae`, { family });
  return value;
}
