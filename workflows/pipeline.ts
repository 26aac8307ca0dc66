/**
 * The pipeline DAG: model + corpus -> tokenize (fan-out over corpus shards) -> extract (fan-out
 * over row ranges) -> one child workflow per SAE variant (train -> evaluate, in parallel) ->
 * report. Orchestration only: every stage is an activity that returns an artifact reference.
 */
import { executeChild, getExternalWorkflowHandle, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { PipelineInput, PipelineResult, StageResult, TokenShardSummary, VariantResult } from '../schemas/pipeline.js';
import { variantLabel } from '../schemas/run-spec.js';
import { budgetsMet, planExtraction, tokenizeWaveSize } from './plan.js';
import { longActivity, shortActivity, TASK_QUEUES, WORKFLOW_TASK_TIMEOUT } from './shared.js';
import { resumeSignal } from './shared.js';
import { StageRunner } from './stage-runner.js';
import { trainVariantWorkflow } from './train-variant.js';

type Activities = ReturnType<typeof createActivities>;


export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const { spec } = input;
  const runId = workflowInfo().workflowId;
  const runner = new StageRunner(runId);
  const attempts = spec.temporal.maxAttempts;
  const short = proxyActivities<Activities>({ ...shortActivity(attempts), taskQueue: TASK_QUEUES.cpu });
  const cpu = proxyActivities<Activities>({ ...longActivity(spec.temporal.heartbeatTimeoutSeconds, attempts), taskQueue: TASK_QUEUES.cpu });
  const compute = proxyActivities<Activities>({
    ...longActivity(spec.temporal.heartbeatTimeoutSeconds, attempts),
    taskQueue: spec.device === 'cpu' ? TASK_QUEUES.cpu : TASK_QUEUES.gpu,
  });
  runner.onResume = async () => {
    for (const childId of Object.values(runner.progress().children)) {
      await getExternalWorkflowHandle(childId).signal(resumeSignal).catch(() => undefined);
    }
  };

  try {
    const { runDir } = await short.initRun({ runId, spec });
    const [model, corpus] = await Promise.all([
      runner.run('model', () => cpu.prepareModel({ spec })),
      runner.run('corpus', () => cpu.prepareCorpus({ spec })),
    ]);
    const plans = await short.planCorpus({ spec, corpus });

    const tokenShards: StageResult<TokenShardSummary>[] = [];
    const waveSize = tokenizeWaveSize(plans, spec);
    for (let next = 0; next < plans.length && !budgetsMet(tokenShards, spec); next += waveSize) {
      const wave = plans.slice(next, next + waveSize);
      tokenShards.push(
        ...(await Promise.all(wave.map((plan) => runner.run(`tokenize:${plan.id}`, () => cpu.tokenizeShard({ spec, model, corpus, plan }))))),
      );
    }

    const units = planExtraction(tokenShards, spec);
    const activations = await Promise.all(
      units.map((unit, i) => runner.run(`extract:${unit.purpose}-${i}`, () => compute.extractShard({ spec, model, unit }))),
    );
    const shardsFor = (purpose: string) => activations.filter((_, i) => units[i].purpose === purpose);
    const tokens = { train: sum(shardsFor('train').map((a) => a.summary.tokens)), eval: sum(shardsFor('eval').map((a) => a.summary.tokens)) };

    const variants: VariantResult[] = await Promise.all(
      spec.sae.variants.map((variant, variantIndex) => {
        const workflowId = `${runId}--${variantLabel(variant)}`;
        runner.setChild(variantLabel(variant), workflowId);
        return executeChild(trainVariantWorkflow, {
          workflowId,
          workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
          taskQueue: TASK_QUEUES.cpu,
          args: [{ spec, variantIndex, model, corpus, trainShards: shardsFor('train').map((a) => a.ref), evalShards: shardsFor('eval').map((a) => a.ref) }],
        });
      }),
    );

    const allStages = () => [...runner.progress().stages, ...variants.flatMap((v) => v.stages.map((s) => ({ ...s, name: `${v.label}/${s.name}` })))];
    await runner.run('report', () => cpu.writeReport({ runId, spec, model, variants, stages: allStages(), tokens }));
    runner.finish('completed');
    const stages = allStages();
    const computeStages = stages.filter((s) => s.name !== 'report');
    return { runId, runDir, variants, stages, allCacheHits: computeStages.every((s) => s.cacheHit === true) };
  } catch (error) {
    runner.finish('failed');
    throw error;
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
