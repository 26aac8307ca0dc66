/**
 * Runs workflow stages so that a stage which exhausts its activity retries does not end the
 * run: the stage is marked `awaiting-resume` (visible in the progress query, the memo and the
 * TsaeStatus search attribute) and waits until `tsae resume` sends the resume signal, then
 * runs again. Cancellation still ends the run.
 */
import { ApplicationFailure, condition, isCancellation, log, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { PipelineProgress, StageResult, StageState } from '../schemas/pipeline.js';
import { progressQuery, resumeSignal } from './shared.js';
import { TsaeStatusKey } from './search-attributes.js';

export class StageRunner {
  private readonly stages = new Map<string, StageState>();
  private resumeGeneration = 0;
  private readonly children: Record<string, string> = {};
  private finalStatus: PipelineProgress['status'] | null = null;
  /** Called on every resume signal, e.g. to forward it to child workflows. */
  onResume: (() => Promise<void>) | null = null;

  constructor(private readonly runId: string) {
    setHandler(progressQuery, () => this.progress());
    setHandler(resumeSignal, () => {
      this.resumeGeneration += 1;
      if (this.onResume) void this.onResume();
    });
  }

  progress(): PipelineProgress {
    const stages = [...this.stages.values()];
    const awaiting = stages.some((s) => s.status === 'awaiting-resume');
    return {
      runId: this.runId,
      status: this.finalStatus ?? (awaiting ? 'awaiting-resume' : 'running'),
      stages,
      children: { ...this.children },
    };
  }

  setChild(variant: string, workflowId: string): void {
    this.children[variant] = workflowId;
  }

  finish(status: PipelineProgress['status']): void {
    this.finalStatus = status;
    this.publishStatus();
  }

  /** Runs `fn` as stage `name`; on failure waits for a resume signal and tries again. */
  async run<S>(name: string, fn: () => Promise<StageResult<S>>): Promise<StageResult<S>> {
    const state: StageState = this.stages.get(name) ?? { name, status: 'pending', starts: 0 };
    this.stages.set(name, state);
    for (;;) {
      state.status = 'running';
      state.starts += 1;
      state.startedAt = new Date().toISOString();
      state.error = undefined;
      try {
        const result = await fn();
        Object.assign(state, { status: 'done', cacheHit: result.cacheHit, ref: result.ref, finishedAt: new Date().toISOString() });
        return result;
      } catch (error) {
        if (isCancellation(error)) {
          state.status = 'cancelled';
          throw error;
        }
        state.status = 'awaiting-resume';
        state.error = describeFailure(error);
        log.warn('stage failed after its retries; awaiting resume', { stage: name, error: state.error });
        this.publishStatus();
        const generation = this.resumeGeneration;
        await condition(() => this.resumeGeneration > generation);
        this.publishStatus();
      }
    }
  }

  private publishStatus(): void {
    const progress = this.progress();
    const waiting = progress.stages.filter((s) => s.status === 'awaiting-resume').map((s) => `${s.name}: ${s.error ?? ''}`);
    upsertMemo({ status: progress.status, awaiting: waiting });
    upsertSearchAttributes([{ key: TsaeStatusKey, value: progress.status }]);
  }
}

/**
 * What to show for a failed stage: the message of the first ApplicationFailure in the chain
 * (our error, with its code as type and the file or field named), else the innermost message.
 */
function describeFailure(error: unknown): string {
  let current: unknown = error;
  let innermost = String(error);
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof ApplicationFailure) return current.type ? `${current.type}: ${current.message}` : current.message;
    if ((current as Error).message) innermost = (current as Error).message;
    current = (current as { cause?: unknown }).cause;
  }
  return innermost;
}

export function currentRunId(): string {
  return workflowInfo().workflowId;
}
