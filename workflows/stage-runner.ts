/**
 * Runs a workflow's stages with failure semantics that fit the failure:
 * - bad input or config (a deterministic failure) fails the run at once, naming the field or file;
 * - a stage that failed its attempts waits as `awaiting-resume` until `tsae resume` (or until
 *   the spec's `temporal.awaitResumeHours`, after which the run fails visibly);
 * - cancellation ends the run as `cancelled`.
 * It keeps the run's progress for the query, the memo, the TsaeStatus search attribute and the
 * Web UI's current details, and forwards resume signals to child workflows.
 */
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineProgress, StageResult, StageState } from '../schemas/pipeline.js';
import { TsaeStatusKey } from './search-attributes.js';
import { awaitingSignal, DETERMINISTIC_FAILURES, progressQuery, resumeSignal } from './shared.js';

export interface StageRunnerOptions {
  /** Hours a stage may wait for a resume before the run fails (scheduled runs); default: forever. */
  awaitResumeHours?: number;
  /** Root workflow to tell when a stage here waits for a resume (child workflows). */
  rootId?: string;
}

export class StageRunner {
  private readonly stages = new Map<string, StageState>();
  private readonly children = new Map<string, string>();
  private readonly descendantsAwaiting = new Map<string, string>();
  private readonly phases = new Map<string, { done: number; total: number }>();
  private resumeGeneration = 0;
  private finalStatus: PipelineProgress['status'] | null = null;
  private extraMemo: Record<string, unknown> = {};
  private lastMemo = '';
  private lastStatus = '';

  constructor(
    private readonly runId: string,
    private readonly options: StageRunnerOptions = {},
  ) {
    setHandler(progressQuery, () => this.progress());
    setHandler(resumeSignal, () => {
      this.resumeGeneration += 1;
      for (const childId of this.children.values()) void getExternalWorkflowHandle(childId).signal(resumeSignal).catch(() => undefined);
    });
    setHandler(awaitingSignal, ({ workflowId, stage, error }) => {
      if (error === null) this.descendantsAwaiting.delete(`${workflowId}/${stage}`);
      else this.descendantsAwaiting.set(`${workflowId}/${stage}`, error);
      this.publish();
    });
  }

  progress(): PipelineProgress {
    const stages = [...this.stages.values()];
    const awaiting = stages.some((s) => s.status === 'awaiting-resume') || this.descendantsAwaiting.size > 0;
    return {
      runId: this.runId,
      status: this.finalStatus ?? (awaiting ? 'awaiting-resume' : 'running'),
      stages,
      children: Object.fromEntries(this.children),
      phases: Object.fromEntries(this.phases),
      awaiting: [...this.descendantsAwaiting.entries()].map(([where, error]) => `${where}: ${error}`),
    };
  }

  /** Registers a running child workflow (it receives forwarded resume signals). */
  setChild(label: string, workflowId: string): void {
    this.children.set(label, workflowId);
  }

  removeChild(label: string): void {
    this.children.delete(label);
  }

  /** Counts of a fan-out phase ("extract train": 120/431), shown in the query and the UI. */
  setPhase(name: string, done: number, total: number): void {
    this.phases.set(name, { done, total });
    // Counts change with every unit: they go to the query and the current details (no history
    // events), not to the memo (one event per change).
    this.publishDetails();
  }

  /** Memo fields besides the status (the report path and headline metrics when done). */
  setMemo(fields: Record<string, unknown>): void {
    this.extraMemo = { ...this.extraMemo, ...fields };
  }

  finish(status: PipelineProgress['status']): void {
    this.finalStatus = status;
    this.publish();
  }

  /** Ends the run as failed or cancelled, whichever `error` is. */
  fail(error: unknown): void {
    this.finish(isCancellation(error) ? 'cancelled' : 'failed');
  }

  /**
   * Runs `fn` as stage `name`. `fn` receives the start number (1 + resumes), which callers put
   * into activity ids so every start is a distinct activity.
   */
  async run<S>(name: string, fn: (start: number) => Promise<StageResult<S>>): Promise<StageResult<S>> {
    const state: StageState = this.stages.get(name) ?? { name, status: 'pending', starts: 0 };
    this.stages.set(name, state);
    for (;;) {
      Object.assign(state, { status: 'running', starts: state.starts + 1, startedAt: new Date().toISOString(), error: undefined });
      this.publish();
      try {
        const result = await fn(state.starts);
        Object.assign(state, { status: 'done', cacheHit: result.cacheHit, ref: result.ref, finishedAt: new Date().toISOString() });
        this.publish();
        return result;
      } catch (error) {
        if (isCancellation(error)) {
          state.status = 'cancelled';
          throw error;
        }
        state.error = describeFailure(error);
        if (DETERMINISTIC_FAILURES.includes(failureType(error) ?? '')) {
          state.status = 'failed';
          this.publish();
          throw error;
        }
        await this.awaitResume(state);
      }
    }
  }

  private async awaitResume(state: StageState): Promise<void> {
    state.status = 'awaiting-resume';
    log.warn('stage failed its attempts; awaiting resume', { stage: state.name, error: state.error });
    this.publish();
    await this.notifyRoot(state.name, state.error ?? '');
    const generation = this.resumeGeneration;
    const hours = this.options.awaitResumeHours;
    const resumedNow = () => this.resumeGeneration > generation;
    // condition() without a timeout resolves to undefined: only the timed form says whether it timed out.
    const resumed = hours ? await condition(resumedNow, `${hours} hours`) : (await condition(resumedNow), true);
    await this.notifyRoot(state.name, null);
    if (!resumed) {
      state.status = 'failed';
      this.publish();
      throw ApplicationFailure.create({
        type: 'RESUME_DEADLINE',
        nonRetryable: true,
        message: `stage ${state.name} waited ${hours} h for \`tsae resume\` (temporal.awaitResumeHours); last error: ${state.error}`,
      });
    }
  }

  private async notifyRoot(stage: string, error: string | null): Promise<void> {
    const root = this.options.rootId;
    if (!root || root === workflowInfo().workflowId) return;
    await getExternalWorkflowHandle(root)
      .signal(awaitingSignal, { workflowId: workflowInfo().workflowId, stage, error })
      .catch(() => undefined);
  }

  /**
   * Memo and search attribute, only when they change: each upsert is a history event, and a
   * fan-out leaf runs hundreds of stages.
   */
  private publish(): void {
    const progress = this.progress();
    const awaiting = this.awaitingLines(progress);
    const memo = JSON.stringify({ status: progress.status, awaiting, ...this.extraMemo });
    if (memo !== this.lastMemo) {
      upsertMemo(JSON.parse(memo) as Record<string, unknown>);
      this.lastMemo = memo;
    }
    if (progress.status !== this.lastStatus) {
      upsertSearchAttributes([{ key: TsaeStatusKey, value: progress.status }]);
      this.lastStatus = progress.status;
    }
    this.publishDetails();
  }

  private publishDetails(): void {
    const progress = this.progress();
    setCurrentDetails(detailsMarkdown(progress, this.awaitingLines(progress)));
  }

  private awaitingLines(progress: PipelineProgress): string[] {
    return [...progress.stages.filter((s) => s.status === 'awaiting-resume').map((s) => `${s.name}: ${s.error ?? ''}`), ...progress.awaiting];
  }
}

/** The Web UI's "current details": status, fan-out counts, running and waiting stages. */
function detailsMarkdown(progress: PipelineProgress, awaiting: string[]): string {
  const lines = [`**${progress.status}**`];
  for (const [name, p] of Object.entries(progress.phases)) lines.push(`- ${name}: ${p.done}/${p.total}`);
  const running = progress.stages.filter((s) => s.status === 'running').map((s) => s.name);
  if (running.length) lines.push(`- running: ${running.slice(0, 8).join(', ')}${running.length > 8 ? ` (+${running.length - 8})` : ''}`);
  const done = progress.stages.filter((s) => s.status === 'done').length;
  lines.push(`- stages done: ${done}/${progress.stages.length}`);
  for (const line of awaiting.slice(0, 5)) lines.push(`- awaiting \`tsae resume\`: ${line}`);
  return lines.join('\n');
}

/** The type of the first ApplicationFailure in an error's cause chain. */
export function failureType(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof ApplicationFailure && current.type) return current.type;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * What to show for a failed stage: the message of the first ApplicationFailure in the chain
 * (our error, with its code as type and the file or field named), else the innermost message.
 */
export function describeFailure(error: unknown): string {
  let current: unknown = error;
  let innermost = String(error);
  for (let depth = 0; current && depth < 8; depth++) {
    if (current instanceof ApplicationFailure) return current.type ? `${current.type}: ${current.message}` : current.message;
    if ((current as Error).message) innermost = (current as Error).message;
    current = (current as { cause?: unknown }).cause;
  }
  return innermost;
}
