/**
 * Nightly baseline reproduction (started by a Temporal Schedule): rerun a preset, compare every
 * metric with the stored reference run within tolerances, record the comparison in the run
 * folder, and fail visibly (workflow status Failed, in the UI) on a regression.
 */
import { ApplicationFailure, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { NightlyInput, NightlyResult } from '../schemas/pipeline.js';
import { pipelineWorkflow } from './pipeline.js';
import { shortActivity, TASK_QUEUES, WORKFLOW_TASK_TIMEOUT } from './shared.js';

type Activities = ReturnType<typeof createActivities>;

export async function nightlyReproductionWorkflow(input: NightlyInput): Promise<NightlyResult> {
  const short = proxyActivities<Activities>({ ...shortActivity(3), taskQueue: TASK_QUEUES.cpu });
  const runId = `${workflowInfo().workflowId}--run`;
  await executeChild(pipelineWorkflow, { workflowId: runId, taskQueue: TASK_QUEUES.cpu, workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT, args: [{ spec: input.spec }] });
  const result = await short.compareWithReference({ runId, reference: input.reference, tolerances: input.tolerances ?? {} });
  if (!result.pass) {
    throw ApplicationFailure.create({
      type: 'REGRESSION',
      nonRetryable: true,
      message: `${result.regressions.length} metric(s) regressed against reference '${input.reference}': ${result.regressions
        .slice(0, 5)
        .map((r) => `${r.metric} ${r.value} vs ${r.reference}`)
        .join('; ')}`,
      details: [result],
    });
  }
  return result;
}
