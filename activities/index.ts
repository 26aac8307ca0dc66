/**
 * All activities, built once per worker with their dependencies (artifact store, data
 * directory, device, logger). Workflows import only the type of this factory.
 */
import type { ArtifactStore } from '../lib/artifacts/store.js';
import type { Logger } from '../lib/core/logger.js';
import type { Device } from '../lib/onnx/backend.js';
import { createCorpusActivities } from './corpus.js';
import { createEvaluateActivities } from './evaluate.js';
import { createModelActivities } from './model.js';
import { createReportActivities } from './report.js';
import { createRunRecordActivities } from './run-records.js';
import { createTrainActivities } from './train.js';

export interface WorkerDeps {
  store: ArtifactStore;
  dataDir: string;
  /** Device this worker runs model and SAE compute on. */
  device: Device;
  log: Logger;
  /** Test hook: a JSON file naming stages that must fail (see activities/run-stage.ts). */
  faultsFile?: string;
}

export function createActivities(deps: WorkerDeps) {
  return {
    ...createRunRecordActivities(deps),
    ...createCorpusActivities(deps),
    ...createModelActivities(deps),
    ...createTrainActivities(deps),
    ...createEvaluateActivities(deps),
    ...createReportActivities(deps),
  };
}
