import { join } from 'node:path';
import { EVAL_FAMILIES, RunMetrics } from '../../schemas/eval.js';
import { writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { EVAL_FILES, readValidJson } from './eval-files.js';
import { SCHEMAS_BY_FAMILY } from './output-schemas.js';

/**
 * The run's combined metrics.json: `{ [variant]: { core, absorption, sparse_probing, temporal } }`,
 * each the family's eval JSON (null when that family did not run or left no valid output).
 * @param evalDirs  variant label -> that SAE's eval folder
 */
export async function collectRunMetrics(evalDirs: Record<string, string>): Promise<RunMetrics> {
  const out: RunMetrics = {};
  for (const [label, dir] of Object.entries(evalDirs)) {
    const entry = { core: null, absorption: null, sparse_probing: null, temporal: null } as RunMetrics[string];
    for (const family of EVAL_FAMILIES) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (entry as any)[family] = await readValidJson(join(dir, EVAL_FILES[family]), SCHEMAS_BY_FAMILY[family]);
    }
    out[label] = entry;
  }
  return out;
}

/** Writes `<runDir>/metrics.json` atomically and returns its path. */
export async function writeRunMetrics(runDir: string, metrics: RunMetrics): Promise<string> {
  const path = join(runDir, 'metrics.json');
  await writeJsonAtomic(path, RunMetrics.parse(metrics));
  return path;
}
