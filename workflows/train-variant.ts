/** One SAE variant as a child workflow: train, run each eval family in parallel, then collect feature-browser data. */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { StageResult, VariantInput, VariantResult } from '../schemas/pipeline.js';
import { variantLabel } from '../schemas/run-spec.js';
import { longActivity, TASK_QUEUES } from './shared.js';
import { StageRunner } from './stage-runner.js';

type Activities = ReturnType<typeof createActivities>;

export async function trainVariantWorkflow(input: VariantInput): Promise<VariantResult> {
  const { spec, variantIndex, model, corpus, evalShards } = input;
  const label = variantLabel(spec.sae.variants[variantIndex]);
  const runner = new StageRunner(workflowInfo().workflowId);
  const compute = proxyActivities<Activities>({
    ...longActivity(spec.temporal.heartbeatTimeoutSeconds, spec.temporal.maxAttempts),
    taskQueue: spec.device === 'cpu' ? TASK_QUEUES.cpu : TASK_QUEUES.gpu,
  });

  try {
    const sae = await runner.run('train', () => compute.trainSae({ spec, variantIndex, trainShards: input.trainShards }));
    const results = await Promise.all(
      spec.evaluate.families.map((family) =>
        runner.run(`eval:${family}`, () => compute.evaluateSae({ spec, variantIndex, family, sae: sae.ref, model, corpus, evalShards })),
      ),
    );
    const evals: Record<string, StageResult<unknown>> = Object.fromEntries(spec.evaluate.families.map((family, i) => [family, results[i]]));
    const features = await runner.run('features', () =>
      compute.collectFeatures({ spec, variantIndex, sae: sae.ref, model, corpus, evalShards, temporal: evals.temporal?.ref ?? null }),
    );
    runner.finish('completed');
    return { label, sae, evals, features, stages: runner.progress().stages };
  } catch (error) {
    runner.finish('failed');
    throw error;
  }
}
