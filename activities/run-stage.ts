/**
 * The one place where stages meet Temporal activities: cache lookup, lock, work folder,
 * manifest, heartbeats (progress + checkpoint pointer), cancellation and error mapping.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { readFile } from 'node:fs/promises';
import type { ArtifactRequest, ArtifactStore, WorkContext } from '../lib/artifacts/store.js';
import type { StageContext, StageProgress } from '../lib/core/context.js';
import { TsaeError, wrapFsError } from '../lib/core/errors.js';
import type { Logger } from '../lib/core/logger.js';
import type { StageResult } from '../schemas/pipeline.js';

/** Heartbeat at least this often so cancellation and dead workers are noticed. */
const HEARTBEAT_INTERVAL_MS = 2_000;

export interface ActivityDeps {
  store: ArtifactStore;
  log: Logger;
  /** Test hook: JSON file {"<stage>": "fail"} that makes a stage fail (see test/integration). */
  faultsFile?: string;
}

export interface HeartbeatDetails {
  progress: StageProgress | null;
  workDir: string;
  resuming: boolean;
}

/** What a stage run needs from its caller: a Temporal activity, or (benchmarks) a plain call. */
interface ActivityHandle {
  log: Logger;
  heartbeat(details: HeartbeatDetails): void;
  cancellationSignal: AbortSignal;
}

/**
 * The current Temporal activity, or a stand-in when activities are called directly (the
 * pipeline benchmark compares Temporal with plain calls of the same functions).
 */
function currentActivity(deps: ActivityDeps): ActivityHandle {
  if (!inActivityContext()) return { log: deps.log, heartbeat: () => {}, cancellationSignal: new AbortController().signal };
  const context = Context.current();
  return { log: context.log as unknown as Logger, heartbeat: (d) => context.heartbeat(d), cancellationSignal: context.cancellationSignal };
}

function inActivityContext(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

/** Runs a stage inside the current activity, producing (or reusing) its artifact. */
export async function runStageActivity<S>(
  deps: ActivityDeps,
  request: ArtifactRequest,
  work: (work: WorkContext, ctx: StageContext) => Promise<S>,
): Promise<StageResult<S>> {
  const activity = currentActivity(deps);
  const log = activity.log;
  let last: StageProgress | null = null;
  let workDir: string | null = null;
  let resuming = false;
  // Heartbeats start before the cache lookup: waiting for another producer's lock is activity
  // time too, and cancellation only arrives through heartbeats.
  const beat = () => activity.heartbeat({ progress: last, workDir: workDir ?? '', resuming } satisfies HeartbeatDetails);
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  try {
    await injectFault(deps, request.stage);
    const result = await deps.store.produce(
      request,
      async (workCtx) => {
        ({ workDir, resuming } = workCtx);
        beat();
        const ctx: StageContext = {
          signal: activity.cancellationSignal,
          log,
          onProgress: (progress) => {
            last = progress;
          },
        };
        if (workCtx.resuming) log.info('resuming from the work folder of an earlier attempt', { stage: request.stage, workDir: workCtx.workDir });
        return work(workCtx, ctx);
      },
      { waitForLock: true, signal: activity.cancellationSignal },
    );
    return { ref: result.ref, summary: result.manifest.summary as S, cacheHit: result.cacheHit };
  } catch (error) {
    // A failed write often carries no path (ENOSPC from write(2)): name the work folder.
    throw toApplicationFailure(wrapFsError(error, workDir ?? deps.store.dataDir));
  } finally {
    clearInterval(timer);
  }
}

/** TsaeError -> ApplicationFailure with the error code as type, non-retryable for bad input/config. */
export function toApplicationFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  const errno = error as NodeJS.ErrnoException;
  if (errno?.code === 'ENOSPC') error = wrapFsError(error, errno.path ?? 'the data directory');
  if (error instanceof TsaeError) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: !error.retryable,
      details: [error.details],
      cause: error,
    });
  }
  return error;
}

/**
 * Runs bookkeeping work that is not a cached artifact (run records, the report) with the same
 * fault injection and error mapping as stages.
 */
export async function runUncachedActivity<T>(deps: ActivityDeps, stage: string, work: () => Promise<T>): Promise<T> {
  try {
    await injectFault(deps, stage);
    return await work();
  } catch (error) {
    throw toApplicationFailure(error);
  }
}

async function injectFault(deps: ActivityDeps, stage: string): Promise<void> {
  if (!deps.faultsFile) return;
  const text = await readFile(deps.faultsFile, 'utf8').catch(() => '{}');
  const faults = JSON.parse(text || '{}') as Record<string, string>;
  const match = Object.entries(faults).find(([pattern]) => stage === pattern || stage.startsWith(pattern + ':'));
  if (match?.[1] === 'fail') throw new TsaeError('INTERNAL', `injected fault for stage '${stage}' (${deps.faultsFile})`);
}
