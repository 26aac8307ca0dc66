/**
 * Names shared by workflows, activities, workers and the CLI: task queues, signals, queries and
 * activity option profiles. Nothing here may import Node builtins or heavy libraries (it is
 * bundled into the workflow sandbox).
 */
import { defineQuery, defineSignal, type ActivityOptions } from '@temporalio/workflow';
import type { PipelineProgress, RunSettings } from '../schemas/pipeline.js';

export const TASK_QUEUES = {
  /** Workflow tasks only: a worker that runs no stage, so nothing can block it. */
  workflows: 'tsae-workflows',
  /** Corpus, tokenization, bookkeeping and reports: any machine. */
  cpu: 'tsae-cpu',
  /** Model and SAE compute when the spec asks for a GPU device. */
  gpu: 'tsae-gpu',
} as const;
export type QueueKind = keyof typeof TASK_QUEUES;

/**
 * Where each activity runs. Must agree with the stage definitions' `resources`
 * (test/workflows/activity-classes.test.ts checks it): light and cpu stages go to the cpu
 * queue; compute stages to the gpu queue when the spec's device is not the CPU.
 */
export const ACTIVITY_CLASSES = {
  initRun: 'light',
  prepareCorpus: 'cpu',
  planCorpus: 'light',
  prepareModel: 'cpu',
  tokenizeShard: 'cpu',
  planExtraction: 'light',
  extractShard: 'compute',
  writeSet: 'light',
  mergeSets: 'light',
  trainSae: 'compute',
  importExternalSae: 'cpu',
  evaluateSae: 'compute',
  spliceSaes: 'compute',
  collectFeatures: 'compute',
  writeReport: 'cpu',
  compareWithReference: 'light',
} as const;
export type ActivityName = keyof typeof ACTIVITY_CLASSES;

/** Retry a stage that exhausted its attempts (sent by `tsae resume`, forwarded to child workflows). */
export const resumeSignal = defineSignal<[]>('resume');
/** A descendant workflow entered or left awaiting-resume (so the root's status and UI say so). */
export const awaitingSignal = defineSignal<[{ workflowId: string; stage: string; error: string | null }]>('awaiting');
/** Stage states, failures, artifact references and child workflows of a run. */
export const progressQuery = defineQuery<PipelineProgress>('progress');

/**
 * Failure types that end the run at once instead of waiting for a resume: the input or the
 * config is wrong (named in the message), and no retry or resume can change that.
 */
export const DETERMINISTIC_FAILURES = ['BAD_INPUT', 'BAD_CONFIG', 'NOT_FOUND', 'CORRUPT_ARTIFACT', 'DEVICE_UNAVAILABLE'];
/** Never retried by Temporal: the deterministic failures, and a stage that failed its attempts. */
export const NON_RETRYABLE_ERRORS = [...DETERMINISTIC_FAILURES, 'STAGE_FAILED'];

export type { RunSettings };

/**
 * Options of one activity. Retries are unlimited at Temporal's level: the adapter counts real
 * stage failures and ends them as STAGE_FAILED after `temporal.maxAttempts`, while
 * infrastructure interruptions (a worker shutdown, a dead worker) keep retrying.
 */
export function activityOptions(name: ActivityName, settings: RunSettings): ActivityOptions {
  const resources = ACTIVITY_CLASSES[name];
  const queue = resources === 'compute' && settings.device !== 'cpu' ? TASK_QUEUES.gpu : TASK_QUEUES.cpu;
  // No maximumAttempts: unlimited (the adapter counts stage failures itself).
  const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE_ERRORS };
  if (resources === 'light') return { taskQueue: queue, startToCloseTimeout: '10 minutes', heartbeatTimeout: `${settings.heartbeatTimeoutSeconds} seconds`, retry };
  return { taskQueue: queue, startToCloseTimeout: '72 hours', heartbeatTimeout: `${settings.heartbeatTimeoutSeconds} seconds`, retry };
}

/** Every tsae workflow runs on the workflows queue with the server's default task timeout. */
export const WORKFLOW_QUEUE = TASK_QUEUES.workflows;
