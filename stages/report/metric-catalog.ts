/**
 * The rows of the report's Table 1 and Figure 2: which eval family and field each metric comes
 * from (SAEBench names first, metrics.md), how it is defined, and which way is better. Values
 * are looked up by field name anywhere inside a family's JSON (flat, or SAEBench's nested
 * `eval_result_metrics.<group>.<field>`), never inside arrays (per-letter / per-dataset
 * details) or configs, so the report reads both our eval files and SAEBench's.
 */
import type { EvalFamilyName, VariantReport } from '../../schemas/report.js';
import { paperColumnFor, paperValue, PAPER_COLUMNS, type PaperColumn, type PaperValue } from './paper-values.js';

export interface MetricDef {
  /** Stable id used in metrics.json, CSV and the DOM (`data-metric`). */
  id: string;
  label: string;
  family: EvalFamilyName;
  /** Candidate field names, first found wins. */
  fields: string[];
  definition: string;
  better: 'higher' | 'lower' | 'one' | null;
  /** Significant digits shown (metrics.json keeps full precision). */
  digits: number;
}

const def = (id: string, label: string, family: EvalFamilyName, definition: string, better: MetricDef['better'], digits = 4, fields: string[] = [id]): MetricDef => ({
  id,
  label,
  family,
  fields,
  definition,
  better,
  digits,
});

/** Table 1 rows in display order. */
export const TABLE_1_METRICS: MetricDef[] = [
  def('explained_variance', 'Explained variance (pooled)', 'core', '1 - sum_t ||x_t - xhat_t||^2 / sum_t ||x_t - mean(x)||^2 over held-out tokens', 'higher'),
  def('explained_variance_legacy', 'Explained variance (SAEBench legacy)', 'core', 'mean over tokens of 1 - ||x_t - xhat_t||^2 / ||x_t - mean_batch(x)||^2', 'higher'),
  def('mse', 'MSE', 'core', 'mean over tokens of ||x - xhat||^2 (see the eval JSON for sum vs mean over d)', 'lower'),
  def('kl_div_score', 'KL-div score', 'core', '(KL_ablation - KL_sae) / KL_ablation, zero ablation; 1 is perfect', 'higher'),
  def('ce_loss_score', 'CE-loss score', 'core', '(CE_ablation - CE_sae) / (CE_ablation - CE_clean); 1 is perfect', 'higher'),
  def('l0', 'L0', 'core', 'mean active latents per token', null, 5),
  def('l2_ratio', 'L2 ratio', 'core', 'mean_t ||xhat_t|| / ||x_t||', 'one'),
  def('relative_reconstruction_bias', 'Relative reconstruction bias', 'core', 'E||xhat||^2 / E[x . xhat] (Gated SAE eq. 10); 1 is unbiased', 'one'),
  def('frac_alive', 'Alive fraction', 'core', 'share of latents with firing density > 0 on the eval tokens', 'higher', 4, ['frac_alive', 'fraction_alive', 'alive_fraction']),
  def('mean_absorption_fraction_score', 'Absorption fraction (mean)', 'absorption', 'Chanin et al. absorption fraction, mean over valid letters', 'lower'),
  def('mean_full_absorption_score', 'Full absorption rate (mean)', 'absorption', 'full-absorption rate over probe true positives, mean over letters', 'lower'),
  def('mean_num_split_features', 'Split features (mean)', 'absorption', 'main latents per letter from k-sparse probing', null, 3),
  def('sae_top_1_test_accuracy', 'Sparse probing top-1', 'sparse_probing', 'test accuracy, top-1 latent by mean difference, L2 logistic regression C=1', 'higher'),
  def('sae_top_2_test_accuracy', 'Sparse probing top-2', 'sparse_probing', 'as top-1 with 2 latents', 'higher'),
  def('sae_top_5_test_accuracy', 'Sparse probing top-5', 'sparse_probing', 'as top-1 with 5 latents', 'higher'),
  def('llm_test_accuracy', 'Probing, residual stream', 'sparse_probing', 'same probe on the full model residual (reference ceiling)', 'higher'),
  def('temporal_instability', 'Temporal instability', 'temporal', 'mean over consecutive pairs of ||f_t - f_t-1||^2 / mean_t ||f_t||^2 (lower is more stable; per-latent means in the eval JSON)', 'lower', 4, [
    'temporal_instability',
    'mean_temporal_instability',
    'mean_relative_change',
    'temporal_stability',
  ]),
  def('lag1_autocorrelation', 'Lag-1 autocorrelation', 'temporal', 'mean over alive latents of corr(f_t-1, f_t) over consecutive pairs within windows', 'higher', 4, [
    'lag1_autocorrelation',
    'mean_lag1_autocorrelation',
    'mean_autocorrelation_lag1',
  ]),
  def('n_clusters', 'Temporal clusters', 'temporal', 'clusters of feature position-profiles, k chosen by the stated criterion', null, 1, ['n_clusters', 'num_clusters', 'nClusters', 'clusters']),
];

export interface MetricCell {
  value: number | null;
  /** Dotted path inside the variant's metrics (e.g. core.eval_result_metrics.sparsity.l0). */
  path: string | null;
  /** Why there is no number (a family's status/note), when there is none. */
  note: string | null;
}

export interface MetricRow {
  id: string;
  label: string;
  family: EvalFamilyName;
  definition: string;
  better: MetricDef['better'];
  digits: number;
  values: Record<string, MetricCell>;
  paper: Partial<Record<PaperColumn, PaperValue>>;
}

/** Table 1 for a run: one row per metric, one cell per variant label, plus the paper's values. */
export function buildMetricRows(variants: VariantReport[]): MetricRow[] {
  return TABLE_1_METRICS.map((m) => {
    const values: Record<string, MetricCell> = {};
    for (const v of variants) values[v.label] = lookupMetric(v, m);
    const paper: Partial<Record<PaperColumn, PaperValue>> = {};
    for (const c of PAPER_COLUMNS) {
      const p = paperValue(m.id, c);
      if (p) paper[c] = p;
    }
    return { id: m.id, label: m.label, family: m.family, definition: m.definition, better: m.better, digits: m.digits, values, paper };
  });
}

/** One metric of one variant; falls back to the temporal analysis for the cluster count. */
export function lookupMetric(variant: VariantReport, m: MetricDef): MetricCell {
  const family = variant.metrics[m.family];
  if (family) {
    for (const field of m.fields) {
      const found = findField(family, field, m.family, isNumberOrNull);
      if (found) {
        const value = typeof found.value === 'number' && Number.isFinite(found.value) ? found.value : null;
        return { value, path: found.path, note: value === null ? familyNote(family) ?? 'not computed' : null };
      }
    }
  }
  if (m.id === 'n_clusters' && variant.temporal) return { value: variant.temporal.nClusters, path: null, note: null };
  return { value: null, path: null, note: family ? familyNote(family) ?? 'not reported' : `${m.family} eval did not run` };
}

/** Configs, per-item details and the prose `definitions` each eval writes (whose keys are metric names). */
const SKIP_KEYS = new Set(['eval_config', 'sae_cfg_dict', 'config', 'definitions', 'eval_result_details', 'eval_result_unstructured']);

const isNumberOrNull = (value: unknown) => typeof value === 'number' || value === null;

/**
 * Breadth-first search for `field` in a JSON object (the shallowest match whose value `accept`s
 * wins), skipping arrays and configs.
 */
export function findField(root: Record<string, unknown>, field: string, rootPath: string, accept: (value: unknown) => boolean = () => true): { value: unknown; path: string } | null {
  let level: [Record<string, unknown>, string][] = [[root, rootPath]];
  while (level.length > 0) {
    const next: [Record<string, unknown>, string][] = [];
    for (const [obj, path] of level) {
      if (Object.hasOwn(obj, field) && accept(obj[field])) return { value: obj[field], path: `${path}.${field}` };
      for (const [key, child] of Object.entries(obj)) {
        if (SKIP_KEYS.has(key) || !child || typeof child !== 'object' || Array.isArray(child)) continue;
        next.push([child as Record<string, unknown>, `${path}.${key}`]);
      }
    }
    level = next;
  }
  return null;
}

/** Resolves a dotted path produced by findField against a variant's metrics object. */
export function resolvePath(metrics: Record<string, unknown>, path: string): unknown {
  let cur: unknown = metrics;
  for (const key of path.split('.')) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A family's own explanation for a missing number ("not enough valid letters", ...). */
function familyNote(family: Record<string, unknown>): string | null {
  for (const key of ['status', 'note', 'reason', 'error', 'message']) {
    const found = findField(family, key, '');
    // 'ok' is a status, not a reason; snake_case statuses read as words.
    if (found && typeof found.value === 'string' && found.value.length > 0 && found.value !== 'ok') return found.value.replace(/_/g, ' ');
  }
  return null;
}

/** The paper column a variant is compared with in Figure 2 (by architecture). */
export function paperMarker(row: MetricRow, variant: VariantReport): number | null {
  const column = paperColumnFor(variant.variant);
  return column ? row.paper[column]?.value ?? null : null;
}
