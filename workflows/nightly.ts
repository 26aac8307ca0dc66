/**
 * Nightly baseline reproduction (started by a Temporal Schedule). A nightly run must
 * reproduce, not replay the cache: it salts the cache keys of training and everything after
 * it (`cacheSalt` = this workflow's id), so SAEs are trained and evaluated from scratch while
 * the corpus, tokens and activations may be reused. Every metric is then compared with the
 * stored reference within stated tolerances; a regression fails this workflow visibly (status
 * Failed, `TsaeNightly = "regression"`, `tsae schedule list`). A stage waiting for a resume
 * gives up after `awaitResumeHours`, so a stuck night cannot make the Schedule skip every
 * later one.
 */
import { ApplicationFailure, executeChild, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { NightlyInput, NightlyResult } from '../schemas/pipeline.js';
import { callActivity } from './calls.js';
import { runAttributes } from './fan-out.js';
import { pipelineWorkflow } from './pipeline.js';
import { TsaeNightlyKey } from './search-attributes.js';
import { StageRunner } from './stage-runner.js';

/** A scheduled run waits at most this long for `tsae resume` unless the spec says otherwise. */
const NIGHTLY_AWAIT_RESUME_HOURS = 12;

export async function nightlyReproductionWorkflow(input: NightlyInput): Promise<NightlyResult> {
  const id = workflowInfo().workflowId;
  const runId = `${id}--run`;
  const spec = {
    ...input.spec,
    cacheSalt: id,
    temporal: { ...input.spec.temporal, awaitResumeHours: input.spec.temporal.awaitResumeHours ?? NIGHTLY_AWAIT_RESUME_HOURS },
  };
  const settings = {
    device: spec.device,
    heartbeatTimeoutSeconds: spec.temporal.heartbeatTimeoutSeconds,
    awaitResumeHours: spec.temporal.awaitResumeHours,
    fanOutWindow: spec.temporal.fanOutWindow,
    fanOutBatch: spec.temporal.fanOutBatch,
  };
  const runner = new StageRunner(id, { awaitResumeHours: settings.awaitResumeHours });
  runner.setChild('run', runId);
  try {
    await executeChild(pipelineWorkflow, { workflowId: runId, args: [{ spec, rootId: id }], staticSummary: `nightly ${input.reference}: ${spec.name}`, typedSearchAttributes: runAttributes(id) });
    const compared = await runner.run('compare', (n) =>
      callActivity('compareWithReference', { runId, reference: input.reference, tolerances: input.tolerances ?? {} }, { id: `compare#${n}`, summary: `compare with reference ${input.reference}`, settings }),
    );
    const result = compared.summary;
    const outcome = result.establishedReference ? 'established' : result.pass ? 'pass' : 'regression';
    upsertSearchAttributes([{ key: TsaeNightlyKey, value: outcome }]);
    upsertMemo({ nightly: outcome, compared: result.compared, regressions: result.regressions.length });
    if (!result.pass) {
      runner.finish('failed');
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
    runner.finish('completed');
    return result;
  } catch (error) {
    runner.fail(error);
    throw error;
  }
}
