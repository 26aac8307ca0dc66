/** Bookkeeping activities: the run folder (spec, references) and nightly comparisons. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import type { NightlyResult } from '../schemas/pipeline.js';
import type { RunSpec } from '../schemas/run-spec.js';
import { resolveInside } from '../lib/artifacts/safe-path.js';
import { fileExists, writeFileAtomic, writeJsonAtomic } from '../lib/core/atomic-fs.js';
import { TsaeError } from '../lib/core/errors.js';
import { compareMetrics, type Tolerance } from '../stages/compare/compare-metrics.js';
import { toApplicationFailure } from './run-stage.js';

export interface RunRecordDeps {
  dataDir: string;
}

/** `<data>/runs/<workflowId>/`, checked to stay inside the data directory. */
export function runDirOf(dataDir: string, runId: string): string {
  return resolveInside(dataDir, join('runs', runId));
}

export function createRunRecordActivities(deps: RunRecordDeps) {
  return {
    /** Creates the run folder with the spec it was started with. */
    async initRun(input: { runId: string; spec: RunSpec }): Promise<{ runDir: string }> {
      try {
        const dir = runDirOf(deps.dataDir, input.runId);
        await writeFileAtomic(join(dir, 'spec.yaml'), YAML.stringify(input.spec));
        await writeJsonAtomic(join(dir, 'run.json'), { runId: input.runId, startedAt: new Date().toISOString(), spec: input.spec.name, preset: input.spec.preset ?? null });
        return { runDir: join('runs', input.runId) };
      } catch (error) {
        throw toApplicationFailure(error);
      }
    },

    /**
     * Compares a finished run's metrics.json with `<data>/references/<reference>.json`; the first
     * run establishes the reference. Writes `comparison.json` into the run folder.
     */
    async compareWithReference(input: { runId: string; reference: string; tolerances: Record<string, Tolerance> }): Promise<NightlyResult> {
      try {
        if (!/^[A-Za-z0-9._-]+$/.test(input.reference)) throw new TsaeError('BAD_CONFIG', `reference name '${input.reference}' may contain only letters, digits, '.', '_' and '-'`);
        const runDir = runDirOf(deps.dataDir, input.runId);
        const metricsText = await readFile(join(runDir, 'metrics.json'), 'utf8').catch(() => {
          throw new TsaeError('NOT_FOUND', `${join(runDir, 'metrics.json')} not found: the run did not write its metrics`);
        });
        const referencePath = resolveInside(deps.dataDir, join('references', `${input.reference}.json`));
        if (!(await fileExists(referencePath))) {
          await writeFileAtomic(referencePath, metricsText);
          const result: NightlyResult = { runId: input.runId, reference: input.reference, establishedReference: true, pass: true, compared: 0, regressions: [] };
          await writeJsonAtomic(join(runDir, 'comparison.json'), result);
          return result;
        }
        const report = compareMetrics(JSON.parse(metricsText), JSON.parse(await readFile(referencePath, 'utf8')), input.tolerances);
        await writeJsonAtomic(join(runDir, 'comparison.json'), { ...report, reference: input.reference });
        return {
          runId: input.runId,
          reference: input.reference,
          establishedReference: false,
          pass: report.pass,
          compared: report.compared,
          regressions: report.regressions.map(({ metric, value, reference, reason }) => ({ metric, value, reference, reason })),
        };
      } catch (error) {
        throw toApplicationFailure(error);
      }
    },
  };
}
