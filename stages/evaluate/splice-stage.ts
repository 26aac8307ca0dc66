/**
 * spliceSaes: the run-level KL / CE splice of every trained SAE of a run (issue 13), one
 * artifact (`<data>/artifacts/splice/<key>/splice.json`) for all of them. Runs once after all
 * SAEs are trained; the per-SAE core eval no longer splices. The report merges each SAE's entry
 * into its core.json with mergeSpliceIntoCore (splice-eval.ts).
 */
import type { CoreEvalConfig } from '../../schemas/eval.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { ModelSummary, SpecRef, StageResult } from '../../schemas/pipeline.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { activationParts } from '../extract/activation-sets.js';
import { graphDirOf, modelDirOf } from '../model/model-paths.js';
import { trainingNormCut } from './norm-outliers.js';
import { evaluateSplice, SPLICE_FILES } from './splice-eval.js';

export interface SpliceStageInput {
  spec: SpecRef;
  /** Every SAE of the run (trained variants and imported ones): its report label and SAE artifact. */
  saes: { label: string; sae: ArtifactRef }[];
  model: StageResult<ModelSummary>;
  /** The held-out extraction set (as evaluateSae's evalSet). */
  evalSet: ArtifactRef;
}

export interface SpliceStageSummary {
  /** splice.json, relative to the artifact folder. */
  file: string;
  resumed: boolean;
  /** Per variant label: the two scores (the full numbers and intervals are in the file). */
  scores: Record<string, { kl_div_score: number | null; ce_loss_score: number | null }>;
  prompts: number;
  timing: Record<string, number>;
}

/** The splice fields of the core options (the rest of core does not change the splice). */
function spliceConfig(options: CoreEvalConfig) {
  const { batch_size_prompts, n_eval_reconstruction_batches, exclude_special_tokens_from_reconstruction, zero_ablate_special_tokens, bootstrap_resamples, bootstrap_seed, confidence_level, exclude_norm_outliers } = options;
  return { batch_size_prompts, n_eval_reconstruction_batches, exclude_special_tokens_from_reconstruction, zero_ablate_special_tokens, bootstrap_resamples, bootstrap_seed, confidence_level, exclude_norm_outliers };
}

/** The smallest training norm cut of the SAEs (one set of tokens for every SAE: the scores stay paired), or null when none has one. */
async function runNormCut(dirs: string[]): Promise<number | null> {
  const cuts = (await Promise.all(dirs.map(trainingNormCut))).filter((c): c is number => c !== null);
  return cuts.length > 0 ? Math.min(...cuts) : null;
}

export const spliceStage = defineStage<SpliceStageInput, SpliceStageSummary>({
  name: 'splice',
  module: import.meta.url,
  resources: 'compute',
  cached: true,
  // Progress comes per model call (tens of seconds on 2 CPU cores, minutes when contended).
  stallSeconds: 1800,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    return {
      config: {
        labels: input.saes.map((s) => s.label),
        options: spliceConfig(spec.evaluate.options.core),
        layer: spec.model.layer,
        salt: spec.cacheSalt ?? null,
      },
      inputs: [...input.saes.map((s) => s.sae.key), input.model.ref.key, input.evalSet.key],
    };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const summary = await evaluateSplice(
      {
        modelDir: modelDirOf(deps.dataDir, input.model),
        layer: spec.model.layer,
        saes: input.saes.map((s) => ({ label: s.label, dir: deps.store.pathOf(s.sae) })),
        activationFiles: await activationParts(deps.store, input.evalSet),
        options: spec.evaluate.options.core,
        device: deps.device,
        threads: spec.threads,
        graphDir: graphDirOf(deps.dataDir, input.model),
        inputKey: [...input.saes.map((s) => s.sae.key), input.model.ref.key, input.evalSet.key].join(','),
        normCut: await runNormCut(input.saes.map((s) => deps.store.pathOf(s.sae))),
      },
      workDir,
      ctx,
    );
    const scores = Object.fromEntries(
      Object.entries(summary.output.saes).map(([label, s]) => [label, { kl_div_score: s.model_behavior_preservation.kl_div_score, ce_loss_score: s.model_performance_preservation.ce_loss_score }]),
    );
    return { file: SPLICE_FILES.output, resumed: summary.resumed, scores, prompts: summary.output.token_stats.prompts, timing: summary.timing };
  },
});
