/**
 * All activities: every stage of stages/registry.ts through the one adapter. Built once per
 * worker with its dependencies; workflows import only the type `Activities`.
 */
import type { StageResult } from '../schemas/pipeline.js';
import { STAGES } from '../stages/registry.js';
import type { StageDefinition, StageInput, StageOutput } from '../lib/stage/stage-definition.js';
import { stageActivity, type ActivityDeps } from './stage-activity.js';

type Stages = typeof STAGES;

/** The activity functions, typed from the stage definitions. */
export type Activities = { [K in keyof Stages]: (input: StageInput<Stages[K]>) => Promise<StageResult<StageOutput<Stages[K]>>> };

export type { ActivityDeps };

export function createActivities(deps: ActivityDeps): Activities {
  return Object.fromEntries(Object.entries(STAGES).map(([name, def]) => [name, stageActivity(name, def as StageDefinition, deps)])) as unknown as Activities;
}
