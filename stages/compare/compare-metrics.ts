/**
 * Compares a run's metrics with a stored reference run, metric by metric, within tolerances.
 * Used by the nightly reproduction workflow: any metric outside its tolerance is a regression.
 */
export interface Tolerance {
  /** Allowed |value - reference|. */
  absolute: number;
  /** Allowed |value - reference| / |reference| (the larger of the two bounds applies). */
  relative: number;
}

export interface MetricComparison {
  metric: string;
  value: number | null;
  reference: number | null;
  tolerance: Tolerance;
  pass: boolean;
  reason?: string;
}

export interface ComparisonReport {
  pass: boolean;
  compared: number;
  regressions: MetricComparison[];
  rows: MetricComparison[];
}

/** Defaults: runs are deterministic on CPU, so only float noise across machines is tolerated. */
export const DEFAULT_TOLERANCE: Tolerance = { absolute: 1e-3, relative: 0.02 };

/** Flattens nested metrics into dotted paths of finite numbers ("atr.core.l0" -> 312.4). */
export function flattenMetrics(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out[prefix] = value;
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => flattenMetrics(item, prefix ? `${prefix}.${i}` : String(i), out));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) flattenMetrics(item, prefix ? `${prefix}.${key}` : key, out);
  }
  return out;
}

/**
 * Compares every metric of the reference with the run. A metric present in the reference but
 * missing from the run is a regression; new metrics in the run are ignored (not yet referenced).
 * `tolerances` maps a metric path suffix (e.g. "core.l0") to its tolerance.
 */
export function compareMetrics(run: unknown, reference: unknown, tolerances: Record<string, Tolerance> = {}): ComparisonReport {
  const current = flattenMetrics(run);
  const rows: MetricComparison[] = Object.entries(flattenMetrics(reference))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([metric, ref]) => {
      const tolerance = toleranceFor(metric, tolerances);
      const value = metric in current ? current[metric] : null;
      if (value === null) return { metric, value, reference: ref, tolerance, pass: false, reason: 'missing from the run' };
      const bound = Math.max(tolerance.absolute, tolerance.relative * Math.abs(ref));
      const pass = Math.abs(value - ref) <= bound;
      return { metric, value, reference: ref, tolerance, pass, reason: pass ? undefined : `|${value} - ${ref}| > ${bound}` };
    });
  const regressions = rows.filter((r) => !r.pass);
  return { pass: regressions.length === 0, compared: rows.length, regressions, rows };
}

function toleranceFor(metric: string, tolerances: Record<string, Tolerance>): Tolerance {
  const match = Object.keys(tolerances)
    .filter((suffix) => metric === suffix || metric.endsWith('.' + suffix))
    .sort((a, b) => b.length - a.length)[0];
  return match ? tolerances[match] : DEFAULT_TOLERANCE;
}
