/** initRun: the run folder with the spec it started with, and the spec stored for activities by reference. */
import { join } from 'node:path';
import YAML from 'yaml';
import type { SpecRef } from '../../schemas/pipeline.js';
import type { RunSpec } from '../../schemas/run-spec.js';
import { runDirOf } from './run-dir.js';
import { writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { storeSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';


export interface InitRunResult {
  runDir: string;
  spec: SpecRef;
}

export const initRunStage = defineStage<{ runId: string; runSpec: RunSpec }, InitRunResult>({
  name: 'run',
  module: import.meta.url,
  resources: 'light',
  cached: false,
  run: async (input, deps) => {
    const dir = runDirOf(deps.dataDir, input.runId);
    await writeFileAtomic(join(dir, 'spec.yaml'), YAML.stringify(input.runSpec));
    const spec = await storeSpec(deps.store, input.runSpec);
    await writeJsonAtomic(join(dir, 'run.json'), { runId: input.runId, startedAt: new Date().toISOString(), spec: input.runSpec.name, preset: input.runSpec.preset ?? null, specKey: spec.key, storeId: spec.storeId });
    return { runDir: join('runs', input.runId), spec };
  },
  refOf: (summary) => ({ stage: 'run', key: summary.spec.key, path: summary.runDir }),
});
