/** Where a prepared model and its derived graphs are on this worker. */
import { isAbsolute, join } from 'node:path';
import type { ModelSummary, StageResult } from '../../schemas/pipeline.js';

/** A model folder from a `prepareModel` result: data-relative for prepared models, absolute for user folders. */
export function modelDirOf(dataDir: string, model: StageResult<ModelSummary>): string {
  return isAbsolute(model.summary.modelDir) ? model.summary.modelDir : join(dataDir, model.summary.modelDir);
}

/** Where derived prefix/suffix graphs of a model go: the data directory, never the model folder. */
export function graphDirOf(dataDir: string, model: StageResult<ModelSummary>): string {
  return join(dataDir, 'graphs', model.summary.modelHash.slice(0, 16));
}
