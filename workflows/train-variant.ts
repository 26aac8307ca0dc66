/** One SAE as a child workflow: train it (or import an external one), run each eval family in parallel, then collect feature-browser data. */
import { workflowInfo } from '@temporalio/workflow';
import type { StageResult, VariantInput, VariantResult } from '../schemas/pipeline.js';
import { callActivity } from './calls.js';
import { StageRunner } from './stage-runner.js';

export async function trainVariantWorkflow(input: VariantInput): Promise<VariantResult> {
  const { spec, settings, label } = input;
  const runner = new StageRunner(workflowInfo().workflowId, { rootId: input.rootId, awaitResumeHours: settings.awaitResumeHours });
  const call = (name: string, start: number) => ({ id: `${label} ${name}#${start}`, summary: `${label}: ${name}`, settings });
  try {
    const { source } = input;
    const sae: StageResult<unknown> =
      source.kind === 'train'
        ? await runner.run('train', (n) => callActivity('trainSae', { spec, variantIndex: source.variantIndex, trainSet: input.trainSet }, call('train', n)))
        : await runner.run('import', (n) => callActivity('importExternalSae', { spec, index: source.index, model: input.model }, call('import', n)));
    const results = await Promise.all(
      input.families.map((family) =>
        runner.run(`eval:${family}`, (n) =>
          callActivity('evaluateSae', { spec, label, family, sae: sae.ref, model: input.model, corpus: input.corpus, evalSet: input.evalSet }, call(`eval ${family}`, n)),
        ),
      ),
    );
    const evals: Record<string, StageResult<unknown>> = Object.fromEntries(input.families.map((family, i) => [family, results[i]]));
    const features = await runner.run('features', (n) =>
      callActivity('collectFeatures', { spec, sae: sae.ref, model: input.model, evalSet: input.evalSet, temporal: evals.temporal?.ref ?? null }, call('features', n)),
    );
    runner.finish('completed');
    return { label, kind: source.kind, sae, evals, features, stages: runner.progress().stages };
  } catch (error) {
    runner.fail(error);
    throw error;
  }
}
