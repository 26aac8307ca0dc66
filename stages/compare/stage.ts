/**
 * compareWithReference: a finished run's metrics.json against `<data>/references/<name>.json`
 * within stated tolerances (the first run establishes the reference). Writes comparison.json
 * into the run folder, tolerances included, so a reader sees what "pass" meant.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NightlyResult } from '../../schemas/pipeline.js';
import { resolveInside } from '../../lib/artifacts/safe-path.js';
import { fileExists, writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { runDirOf } from '../plan/run-dir.js';
import { compareMetrics, DEFAULT_TOLERANCE, type Tolerance } from './compare-metrics.js';

export interface CompareInput {
  runId: string;
  reference: string;
  tolerances: Record<string, Tolerance>;
}

export const compareStage = defineStage<CompareInput, NightlyResult>({
  name: 'compare',
  module: import.meta.url,
  resources: 'light',
  cached: false,
  run: async (input, deps) => {
    if (!/^[A-Za-z0-9._-]+$/.test(input.reference)) throw new TsaeError('BAD_CONFIG', `reference name '${input.reference}' may contain only letters, digits, '.', '_' and '-'`, { details: { field: 'reference' } });
    const runDir = runDirOf(deps.dataDir, input.runId);
    const metricsText = await readFile(join(runDir, 'metrics.json'), 'utf8').catch(() => {
      throw new TsaeError('NOT_FOUND', `${join(runDir, 'metrics.json')} not found: the run did not write its metrics`);
    });
    const referencePath = resolveInside(deps.dataDir, join('references', `${input.reference}.json`));
    const tolerances = { default: DEFAULT_TOLERANCE, ...input.tolerances };
    if (!(await fileExists(referencePath))) {
      await writeFileAtomic(referencePath, metricsText);
      const result: NightlyResult = { runId: input.runId, reference: input.reference, establishedReference: true, pass: true, compared: 0, regressions: [] };
      await writeJsonAtomic(join(runDir, 'comparison.json'), { ...result, tolerances });
      return result;
    }
    const report = compareMetrics(JSON.parse(metricsText), JSON.parse(await readFile(referencePath, 'utf8')), input.tolerances);
    await writeJsonAtomic(join(runDir, 'comparison.json'), { ...report, reference: input.reference, tolerances });
    return {
      runId: input.runId,
      reference: input.reference,
      establishedReference: false,
      pass: report.pass,
      compared: report.compared,
      regressions: report.regressions.map(({ metric, value, reference, reason }) => ({ metric, value, reference, reason })),
    };
  },
});
