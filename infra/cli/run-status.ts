import { defaultPayloadConverter, type Client, type WorkflowHandle } from '@temporalio/client';
import type { HeartbeatDetails } from '../../activities/stage-activity.js';
import type { PipelineProgress, StageState } from '../../schemas/pipeline.js';
import type { StageProgress } from '../../lib/core/context.js';
import { progressQuery } from '../../workflows/shared.js';

/** An activity running now, with the progress from its last heartbeat. */
export interface ActiveActivity {
  workflowId: string;
  activityId: string;
  activityType: string;
  /** scheduled: waiting for a worker slot; started: running on a worker. */
  state: 'scheduled' | 'started' | 'cancel-requested';
  /** When the current attempt started, if it has. */
  startedAt: string | null;
  attempt: number;
  progress: StageProgress | null;
  lastFailure?: string;
}

/** Everything `tsae status` and `--watch` show about a run. */
export interface RunSnapshot {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, ... */
  execution: string;
  /** The pipeline's own status (awaiting-resume when a stage waits for `tsae resume`). */
  status: PipelineProgress['status'] | 'unknown';
  stages: StageState[];
  children: Record<string, { workflowId: string; execution: string; stages: StageState[] }>;
  active: ActiveActivity[];
  /** Stages waiting for `tsae resume`, with their errors. */
  awaiting: string[];
  /** Fan-out phases with unit counts ("extract train": 120/431). */
  phases: Record<string, { done: number; total: number }>;
}

/** How deep `tsae status` follows child workflows (variants, fan-out batches and their batches). */
const MAX_DEPTH = 4;

/** Collects a run's state from Temporal: describe (execution, pending heartbeats) + progress query, through its running children. */
export async function snapshotRun(client: Client, workflowId: string): Promise<RunSnapshot> {
  const handle = client.workflow.getHandle(workflowId);
  const parent = await describeOne(handle);
  const children: RunSnapshot['children'] = {};
  const active = [...parent.active];
  const phases: Record<string, { done: number; total: number }> = { ...(parent.progress?.phases ?? {}) };
  const visit = async (progressChildren: Record<string, string>, prefix: string, depth: number) => {
    for (const [label, childId] of Object.entries(progressChildren)) {
      const child = await describeOne(client.workflow.getHandle(childId)).catch(() => null);
      if (!child) continue;
      const name = prefix ? `${prefix}/${label}` : label;
      children[name] = { workflowId: childId, execution: child.execution, stages: child.progress?.stages ?? [] };
      active.push(...child.active);
      for (const [phase, counts] of Object.entries(child.progress?.phases ?? {})) if (depth === 0) phases[phase] ??= counts;
      if (depth + 1 < MAX_DEPTH) await visit(child.progress?.children ?? {}, name, depth + 1);
    }
  };
  await visit(parent.progress?.children ?? {}, '', 0);
  const allStages = [...(parent.progress?.stages ?? []), ...Object.entries(children).flatMap(([label, c]) => c.stages.map((s) => ({ ...s, name: `${label}/${s.name}` })))];
  const awaiting = [...new Set([...allStages.filter((s) => s.status === 'awaiting-resume').map((s) => `${s.name}: ${s.error ?? ''}`), ...(parent.progress?.awaiting ?? [])])];
  let status: RunSnapshot['status'] = parent.progress?.status ?? parent.memoStatus ?? 'unknown';
  if (awaiting.length && status === 'running') status = 'awaiting-resume';
  if (parent.execution === 'COMPLETED') status = 'completed';
  if (parent.execution === 'FAILED' || parent.execution === 'TERMINATED' || parent.execution === 'TIMED_OUT') status = 'failed';
  if (parent.execution === 'CANCELLED') status = 'cancelled';
  active.sort((a, b) => (a.workflowId + a.activityId < b.workflowId + b.activityId ? -1 : 1));
  return { workflowId, execution: parent.execution, status, stages: parent.progress?.stages ?? [], children, active, awaiting, phases };
}

async function describeOne(handle: WorkflowHandle) {
  const description = await handle.describe();
  const execution = description.status.name;
  let progress: PipelineProgress | null = null;
  try {
    progress = await withTimeout(handle.query(progressQuery), 5_000);
  } catch {
    progress = null; // no worker to answer queries; fall back on the memo
  }
  const memoStatus = (description.memo?.status as PipelineProgress['status'] | undefined) ?? null;
  const active: ActiveActivity[] = (description.raw.pendingActivities ?? []).map((pending) => ({
    workflowId: handle.workflowId,
    activityId: pending.activityId ?? '',
    activityType: pending.activityType?.name ?? '?',
    state: pending.state === 2 ? 'started' : pending.state === 3 ? 'cancel-requested' : 'scheduled',
    startedAt: pending.lastStartedTime?.seconds ? new Date(Number(pending.lastStartedTime.seconds) * 1000).toISOString() : null,
    attempt: pending.attempt ?? 1,
    progress: decodeHeartbeat(pending.heartbeatDetails?.payloads ?? [])?.progress ?? null,
    lastFailure: pending.lastFailure?.message ?? undefined,
  }));
  return { execution, progress, memoStatus, active };
}

function decodeHeartbeat(payloads: unknown[]): HeartbeatDetails | null {
  if (!payloads.length) return null;
  try {
    return defaultPayloadConverter.fromPayload(payloads[0] as never) as HeartbeatDetails;
  } catch {
    return null;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
