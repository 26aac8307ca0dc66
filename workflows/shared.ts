/**
 * Names shared by workflows, activities, workers and the CLI: task queues, signals, queries
 * and activity option profiles. Nothing here may import Node builtins (it is bundled into the
 * workflow sandbox).
 */
import { defineQuery, defineSignal, type ActivityOptions } from '@temporalio/workflow';
import type { PipelineProgress } from '../schemas/pipeline.js';

export const TASK_QUEUES = {
  /** Orchestration, corpus, tokenization, report: any machine. */
  cpu: 'tsae-cpu',
  /** Model and SAE compute when the spec asks for a GPU device. */
  gpu: 'tsae-gpu',
} as const;
export type QueueKind = keyof typeof TASK_QUEUES;

/** Retry a stage that exhausted its retries (sent by `tsae resume`). */
export const resumeSignal = defineSignal<[]>('resume');
/** Stage states, failures and artifact references of a run. */
export const progressQuery = defineQuery<PipelineProgress>('progress');

/** Error types that must never be retried: the input or the config is wrong. */
export const NON_RETRYABLE_ERRORS = ['BAD_INPUT', 'BAD_CONFIG', 'NOT_FOUND', 'CORRUPT_ARTIFACT', 'DEVICE_UNAVAILABLE'];

/** Quick bookkeeping activities (run records, planning). */
export function shortActivity(maximumAttempts: number): ActivityOptions {
  return {
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts, nonRetryableErrorTypes: NON_RETRYABLE_ERRORS },
  };
}

/**
 * Long compute activities: a heartbeat timeout detects a dead worker quickly, and the retried
 * attempt resumes from the checkpoint the dead one left in the artifact's work folder.
 */
export function longActivity(heartbeatTimeoutSeconds: number, maximumAttempts: number): ActivityOptions {
  return {
    startToCloseTimeout: '72 hours',
    heartbeatTimeout: `${heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts, nonRetryableErrorTypes: NON_RETRYABLE_ERRORS },
  };
}

/**
 * Workflow task timeout for every tsae workflow. Workers run CPU-heavy activities in the same
 * process as workflows; a long synchronous stretch of JavaScript (a probe fit, a tokenizer
 * load) can delay a workflow task past Temporal's 10 s default, which would only cause
 * needless task retries.
 */
export const WORKFLOW_TASK_TIMEOUT = '1 minute';
