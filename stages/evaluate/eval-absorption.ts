import type { AbsorptionEvalConfig, AbsorptionEvalOutput, EvalUncertainty } from '../../schemas/eval.js';
import type { StageContext } from '../../lib/core/context.js';
import { computeSaeAbsorption, fitGroundTruthCached, type AbsorptionOutcome, type AbsorptionSettings } from './absorption/absorption-core.js';
import type { WordInputs } from './absorption/absorption-inputs.js';
import { LETTERS } from './absorption/words.js';
import { normalInterval } from './bootstrap.js';
import type { SaeForEval } from './interfaces.js';
import { withUnitNormDecoder } from './unit-norm-decoder.js';

export const ABSORPTION_DEFINITIONS: Record<string, string> = {
  procedure: 'Chanin et al. 2024 as SAEBench: first-letter prompts, residual probes per letter, k-sparse probing for main latents, FeatureAbsorptionCalculator rules',
  decoder: 'the SAE is evaluated with unit-norm decoder rows (norms folded into the latents; reconstructions unchanged), as SAEBench requires',
  probes: 'the optima of SAEBench probe objectives (pos-weighted BCE + weight decay; L1 for latent ranking) solved to convergence instead of Adam epochs',
  mean_absorption_fraction_score: 'mean over valid letters (probe F1 > min_GT_probe_f1) of the mean absorption fraction over probe true positives',
  mean_full_absorption_score: 'mean over valid letters of the full-absorption rate over probe true positives',
  mean_num_split_features: 'mean over valid letters of the number of main latents',
  status: '"ok_with_deviations" when fewer than min_feats_for_eval letters are valid but at least one is (allow_fewer_letters): the means run over the valid letters, listed in letters_used and deviations; "not_enough_valid_letters" when none is',
  words: 'stratify_by_letter: train_words_per_letter / test_words_per_letter words of every first letter (SAEBench samples the vocabulary uniformly)',
  uncertainty: 'standard error over letters (sample std / sqrt(letters)), interval estimate +- z SE',
};

export function absorptionSettings(config: AbsorptionEvalConfig): AbsorptionSettings {
  return {
    groundTruthWeightDecay: config.ground_truth_weight_decay,
    kSparseL1: config.k_sparse_probe_l1_decay,
    kSparseWeightDecay: config.k_sparse_probe_weight_decay,
    l1MaxIterations: config.k_sparse_probe_max_iterations,
    maxK: config.max_k_value,
    f1JumpThreshold: config.f1_jump_threshold,
    minProbeF1: config.min_GT_probe_f1,
    minValidLetters: config.min_feats_for_eval,
    allowFewerLetters: config.allow_fewer_letters,
    thresholds: {
      fullCosThreshold: config.full_absorption_probe_cos_threshold,
      fractionCosThreshold: config.absorption_fraction_probe_cos_threshold,
      projectionShareThreshold: config.probe_projection_proportion_threshold,
      maxAbsorbers: config.absorption_fraction_max_absorbing_latents,
    },
  };
}

/**
 * Absorption of each SAE on shared word residuals (the ground-truth probes are fitted once).
 * Each SAE is seen with unit-norm decoder rows, as SAEBench requires (unit-norm-decoder.ts).
 */
export async function runAbsorptionEval(
  inputs: WordInputs,
  saes: readonly SaeForEval[],
  config: AbsorptionEvalConfig,
  ctx: StageContext,
  /** Where the model-level probes are memoised across processes (absorption-core.ts fitGroundTruthCached). */
  cacheDir?: string,
): Promise<AbsorptionOutcome[]> {
  const settings = absorptionSettings(config);
  const truth = await fitGroundTruthCached(inputs, settings, cacheDir);
  const out: AbsorptionOutcome[] = [];
  for (const sae of saes) out.push(await computeSaeAbsorption(inputs, truth, withUnitNormDecoder(sae), settings, ctx));
  return out;
}

/** Train / test word counts per first letter. */
export function wordsPerLetter(inputs: { train: { letters: Int32Array }; test: { letters: Int32Array } }): Record<string, { train: number; test: number }> {
  const out = Object.fromEntries([...LETTERS].map((l) => [l, { train: 0, test: 0 }]));
  for (const l of inputs.train.letters) out[LETTERS[l]].train++;
  for (const l of inputs.test.letters) out[LETTERS[l]].test++;
  return out;
}

export function absorptionOutput(
  outcome: AbsorptionOutcome,
  words: Record<string, { train: number; test: number }>,
  config: AbsorptionEvalConfig,
  header: { eval_id: string; datetime_epoch_millis: number; sae_label: string; timing: Record<string, number> },
): AbsorptionEvalOutput {
  const probeF1 = Object.fromEntries(outcome.probe_f1.map((f, l) => [LETTERS[l], f]));
  const ok = outcome.status === 'ok' ? outcome : null;
  const counts = Object.values(words).reduce((a, w) => ({ train: a.train + w.train, test: a.test + w.test }), { train: 0, test: 0 });
  return {
    eval_type_id: 'absorption',
    ...header,
    definitions: ABSORPTION_DEFINITIONS,
    eval_config: config,
    status: ok ? (ok.deviations.length > 0 ? 'ok_with_deviations' : 'ok') : 'not_enough_valid_letters',
    deviations: ok ? ok.deviations : [],
    letters_used: ok ? ok.letters.map((l) => l.first_letter) : [],
    eval_result_metrics: {
      mean: ok
        ? {
            mean_absorption_fraction_score: ok.mean_absorption_fraction_score,
            mean_full_absorption_score: ok.mean_full_absorption_score,
            mean_num_split_features: ok.mean_num_split_features,
            std_dev_absorption_fraction_score: ok.std_dev_absorption_fraction_score,
            std_dev_full_absorption_score: ok.std_dev_full_absorption_score,
            std_dev_num_split_features: ok.std_dev_num_split_features,
          }
        : null,
      words: { ...counts, valid_letters: ok ? ok.letters.length : outcome.status === 'not_enough_valid_letters' ? outcome.valid_letters : 0 },
    },
    eval_result_details: ok ? ok.letters : [],
    probe_f1: probeF1,
    words_per_letter: words,
    eval_result_uncertainty: ok ? letterUncertainty(ok, config.confidence_level) : null,
  };
}

/** Standard errors of the letter means (letters as the sampling unit). */
function letterUncertainty(ok: Extract<AbsorptionOutcome, { status: 'ok' }>, level: number): EvalUncertainty {
  const n = ok.letters.length;
  const se = (std: number) => (n >= 2 ? std / Math.sqrt(n) : NaN);
  return {
    method: 'standard error of a mean over letters: sample std / sqrt(letters); interval estimate +- z SE (normal approximation)',
    unit: 'letter',
    level,
    resamples: null,
    seed: null,
    intervals: {
      mean_absorption_fraction_score: normalInterval(ok.mean_absorption_fraction_score, se(ok.std_dev_absorption_fraction_score), level),
      mean_full_absorption_score: normalInterval(ok.mean_full_absorption_score, se(ok.std_dev_full_absorption_score), level),
      mean_num_split_features: normalInterval(ok.mean_num_split_features, se(ok.std_dev_num_split_features), level),
    },
  };
}
