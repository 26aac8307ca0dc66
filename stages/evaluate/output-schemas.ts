import { AbsorptionEvalOutput, CoreEvalOutput, SparseProbingEvalOutput, TemporalEvalOutput } from '../../schemas/eval.js';

/** The output schema of each eval family. */
export const SCHEMAS_BY_FAMILY = {
  core: CoreEvalOutput,
  absorption: AbsorptionEvalOutput,
  sparse_probing: SparseProbingEvalOutput,
  temporal: TemporalEvalOutput,
} as const;
