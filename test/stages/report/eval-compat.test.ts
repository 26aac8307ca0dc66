/**
 * The evaluate stage's real output (test/helpers/real-eval-outputs.ts: the real stages on the
 * smoke fixtures, one trained SAE, all four families) against SAEBench's field names and JSON
 * types (sae-bench 0.6.0's published schemas, test/helpers/saebench-fields.ts), and read by the
 * report as it is: Table 1 finds each metric at SAEBench's path, and the temporal eval's
 * `analysis` is the report's TemporalAnalysis.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { z } from 'zod';
import type { TemporalEvalOutput } from '../../../schemas/eval.js';
import { TemporalAnalysis, VariantReport } from '../../../schemas/report.js';
import { TABLE_1_METRICS, buildMetricRows, resolvePath } from '../../../stages/report/metric-catalog.js';
import { realEvalOutputs } from '../../helpers/real-eval-outputs.js';
import { loadSaeBenchFields, saeBenchProblems, type SaeBenchField } from '../../helpers/saebench-fields.js';

const dataDir = await mkdtemp(join(tmpdir(), 'tsae-eval-compat-'));
after(() => rm(dataDir, { recursive: true, force: true }));
const real = await realEvalOutputs(dataDir);
const saebench = loadSaeBenchFields();

type Family = 'core' | 'absorption' | 'sparse_probing' | 'temporal';

/**
 * Fields the evaluate stage adds to SAEBench's, on purpose: the SAE's label, timings, prose
 * definitions and bootstrap / binomial intervals (eval_result_uncertainty) in every file; our
 * extra options and metrics (centred explained variance, variants without massive-activation
 * dimensions, MSE per dimension); absorption's `status`, `deviations` and word counts; probing's
 * test-set sizes and deviations; the temporal family's analysis and gap statistic. Any other
 * extra field (a rename, a typo) fails the test.
 */
const COMMON_ADDITIONS = ['definitions', 'sae_label', 'timing'];
const config = (keys: string[]) => keys.map((k) => `eval_config.${k}`);
const OUR_ADDITIONS: Record<Family, string[]> = {
  core: [
    ...config(['bootstrap_max_units', 'bootstrap_resamples', 'bootstrap_seed', 'compute_splice', 'confidence_level', 'exclude_norm_outliers', 'massive_dim_share_threshold', 'max_tokens_per_splice_call', 'zero_ablate_special_tokens']),
    ...['explained_variance_centered', 'explained_variance_centered_without_massive_dims', 'explained_variance_legacy_without_massive_dims', 'explained_variance_without_massive_dims', 'mse_per_dim'].map(
      (k) => `eval_result_metrics.reconstruction_quality.${k}`,
    ),
    'deviations',
    'eval_result_uncertainty',
    'massive_activation_dims',
  ],
  absorption: [
    ...config(['absorption_fraction_max_absorbing_latents', 'absorption_fraction_probe_cos_threshold', 'allow_fewer_letters', 'confidence_level', 'full_absorption_probe_cos_threshold', 'ground_truth_weight_decay']),
    ...config(['k_sparse_probe_max_iterations', 'k_sparse_probe_weight_decay', 'max_icl_examples', 'probe_projection_proportion_threshold', 'stratify_by_letter', 'test_words_per_letter']),
    ...config(['train_test_fraction', 'train_words_per_letter', 'vocab_limit']),
    'deviations',
    'eval_result_metrics.words',
    'eval_result_uncertainty',
    'letters_used',
    'probe_f1',
    'status',
    'words_per_letter',
  ],
  sparse_probing: [
    ...config(['confidence_level', 'dataset_files', 'include_llm_full_probe', 'include_sae_full_probe', 'min_examples_per_class', 'min_test_texts_per_task', 'tasks']),
    'deviations',
    'eval_result_details[].n_test_texts',
    'eval_result_details[].n_train_texts',
    'eval_result_uncertainty',
  ],
  temporal: ['analysis', 'gap_statistic', 'per_position'],
};

/**
 * Where the files still differ from what SAEBench's loader (its pydantic output classes)
 * accepts. Reported to the lead (issue 16); the fixes belong in stages/evaluate. While a line is
 * listed here SAEBench cannot load that file; when a fix lands the test fails until its line is
 * removed, so this list only shrinks.
 * - every family lacks SAEBench's provenance fields (required, nullable except the commit hash);
 * - core lacks misc_metrics.average_max_{encoder,decoder}_cosine_sim and writes null (all windows)
 *   where SAEBench has an integer batch count;
 * - absorption writes `mean: null` when no letter's residual probe passes (as on this tiny
 *   model; with allow_fewer_letters a model where some pass gets their numbers, labelled in
 *   `deviations`), where SAEBench always has the six numbers.
 */
const PROVENANCE_GAPS = ['sae_bench_commit_hash (string)', 'sae_cfg_dict (null|object)', 'sae_lens_id (null|string)', 'sae_lens_release_id (null|string)', 'sae_lens_version (null|string)'].map((f) => `missing ${f}`);
const KNOWN_GAPS: Record<Family, string[]> = {
  core: [
    ...PROVENANCE_GAPS,
    'missing eval_result_metrics.misc_metrics.average_max_decoder_cosine_sim (number)',
    'missing eval_result_metrics.misc_metrics.average_max_encoder_cosine_sim (number)',
    'type eval_config.n_eval_sparsity_variance_batches: null, SAEBench has integer',
  ],
  absorption: [...PROVENANCE_GAPS, 'type eval_result_metrics.mean: null, SAEBench has object'],
  sparse_probing: PROVENANCE_GAPS,
  temporal: PROVENANCE_GAPS,
};

function expectedProblems(family: Family): string[] {
  return [...[...COMMON_ADDITIONS, ...OUR_ADDITIONS[family]].map((p) => `extra ${p}`), ...KNOWN_GAPS[family]].sort();
}

/** SAEBench's common envelope (top-level fields every eval output has), for our own temporal family. */
function envelope(): SaeBenchField[] {
  const top = (family: string) => saebench.families[family].filter((f) => !f.path.includes('.') && !f.path.includes('['));
  const common = top('core').filter((f) => ['absorption', 'sparse_probing'].every((other) => top(other).some((o) => o.path === f.path)));
  return common.map((f) => (f.path.startsWith('eval_config') || f.path.startsWith('eval_result') ? { ...f, open: true } : f));
}

for (const family of ['core', 'absorption', 'sparse_probing'] as const) {
  test(`${family}.json has SAEBench's field names and types (sae-bench ${saebench.source.version}), but for the listed additions and gaps`, () => {
    assert.deepEqual(saeBenchProblems(real.outputs[family], saebench.families[family]), expectedProblems(family));
  });
}

test("temporal.json (our family) has SAEBench's common envelope, but for the listed additions and gaps", () => {
  assert.equal(real.outputs.temporal.eval_type_id, 'temporal');
  assert.deepEqual(saeBenchProblems(real.outputs.temporal, envelope()), expectedProblems('temporal'));
});

// Compile-time: the eval's analysis object is accepted where the report wants a TemporalAnalysis.
const asReportInput = (a: NonNullable<TemporalEvalOutput['analysis']>): z.input<typeof TemporalAnalysis> => a;

test("the temporal eval's analysis parses as the report's TemporalAnalysis", () => {
  const analysis = real.outputs.temporal.analysis as NonNullable<TemporalEvalOutput['analysis']>;
  const parsed = TemporalAnalysis.safeParse(asReportInput(analysis));
  assert.ok(parsed.success, parsed.error?.message);
});

test('Table 1 reads every metric of the real eval JSON at the path SAEBench gives it', () => {
  const variant = VariantReport.parse({ label: real.label, variant: 'standard', metrics: real.outputs, temporal: real.outputs.temporal.analysis });
  const rows = buildMetricRows([variant]);
  assert.deepEqual(rows.map((r) => r.id), TABLE_1_METRICS.map((m) => m.id));
  for (const row of rows) {
    const cell = row.values[real.label];
    if (cell.path === null) {
      assert.ok(cell.note, `${row.id}: no value, no path and no note`);
      continue;
    }
    // The value shown is the one in the JSON at the path the report names.
    assert.equal(cell.value, resolvePath(variant.metrics as Record<string, unknown>, cell.path), row.id);
    if (row.family === 'temporal') continue;
    const at = saebench.families[row.family].filter((f) => f.path.startsWith('eval_result_metrics.') && f.path.endsWith(`.${row.id}`)).map((f) => `${row.family}.${f.path}`);
    assert.deepEqual([cell.path], at, `${row.id}: the report reads it where SAEBench has it`);
  }
  const value = (id: string) => rows.find((r) => r.id === id)!.values[real.label];
  assert.equal(value('explained_variance').value, resolvePath(real.outputs.core, 'eval_result_metrics.reconstruction_quality.explained_variance'));
  assert.ok(Number.isFinite(value('l0').value) && Number.isFinite(value('temporal_instability').value) && Number.isFinite(value('llm_test_accuracy').value));
});

test('the SAEBench check catches a renamed field, a wrong type and a missing one', () => {
  const core = structuredClone(real.outputs.core) as { eval_result_metrics: { sparsity: Record<string, unknown>; shrinkage: Record<string, unknown> }; eval_id: unknown };
  core.eval_result_metrics.sparsity.L0 = core.eval_result_metrics.sparsity.l0;
  delete core.eval_result_metrics.sparsity.l0;
  core.eval_result_metrics.shrinkage.l2_ratio = String(core.eval_result_metrics.shrinkage.l2_ratio);
  core.eval_id = 7;
  const found = saeBenchProblems(core, saebench.families.core).filter((p) => !expectedProblems('core').includes(p));
  assert.deepEqual(found, [
    'extra eval_result_metrics.sparsity.L0',
    'missing eval_result_metrics.sparsity.l0 (number)',
    'type eval_id: integer, SAEBench has string',
    'type eval_result_metrics.shrinkage.l2_ratio: string, SAEBench has number',
  ]);
});
