/**
 * The one adapter between stages and Temporal: it turns a stage definition into an activity.
 *
 * - Cache: key = sha256(stage name, the stage's code version (hash of the code it runs), key
 *   config, input keys); a complete artifact is returned at once.
 * - Lock and work folder: a retried attempt resumes from the checkpoints the last one left.
 * - Isolation: `cpu` and `compute` stages run in a stage process (the injected runner), so the
 *   worker's event loop keeps heartbeating and a native crash fails only that stage.
 * - Heartbeats come from the stage's progress events. A stage with no progress for its stall
 *   time is stopped and its attempt fails as STALLED, naming the last progress it made.
 * - Retries that fit the failure: bad input or config is non-retryable (the run fails at once,
 *   naming the field or file); infrastructure interruptions (worker shutdown, another data
 *   store) retry without limit and without counting; real stage failures count, and after the
 *   spec's `temporal.maxAttempts` the activity fails as STAGE_FAILED, which the workflow turns
 *   into `awaiting-resume`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpecRef, StageResult } from '../schemas/pipeline.js';
import { codeVersionOf } from '../lib/artifacts/code-version.js';
import { checkSameStore } from '../lib/artifacts/store-identity.js';
import { sha256Hex, writeJsonAtomic } from '../lib/core/atomic-fs.js';
import type { StageContext, StageProgress } from '../lib/core/context.js';
import { TsaeError, wrapFsError } from '../lib/core/errors.js';
import type { Logger } from '../lib/core/logger.js';
import { packageRoot } from '../lib/core/package-root.js';
import { loadSpec } from '../lib/stage/spec-ref.js';
import type { StageDefinition, StageDeps } from '../lib/stage/stage-definition.js';

/** Runs a stage job in a stage process (infra/worker/stage-pool.ts implements it). */
export interface StageRunner {
  run(job: { activity: string; input: unknown; work: { workDir: string; resuming: boolean } }, hooks: { onProgress(p: StageProgress): void; signal: AbortSignal }): Promise<unknown>;
}

export interface ActivityDeps extends StageDeps {
  /** Stage processes for cpu/compute stages; null runs them in this process (tests, benchmarks). */
  runner: StageRunner | null;
  /** Test hook: JSON file {"<stage>": "fail"} that makes a stage fail (see test/integration). */
  faultsFile?: string;
}

export interface HeartbeatDetails {
  progress: StageProgress | null;
  workDir: string;
  resuming: boolean;
}

const HEARTBEAT_INTERVAL_MS = 2_000;
const DEFAULT_STALL_SECONDS = 600;
const DEFAULT_MAX_ATTEMPTS = 3;
/** Failures that say nothing about the stage: retried without limit and not counted. */
const INFRASTRUCTURE = new Set(['WORKER_SHUTDOWN', 'WRONG_DATA_STORE', 'BUSY']);

interface ActivityHandle {
  log: Logger;
  heartbeat(details: HeartbeatDetails): void;
  cancellationSignal: AbortSignal;
  /** True when the cancellation is the worker shutting down (hand the work back). */
  shuttingDown(): boolean;
  /** workflowId + activityId: identifies this stage start across attempts; null outside Temporal. */
  identity: string | null;
}

/** The current Temporal activity, or a stand-in when a stage activity is called directly (benchmarks). */
function currentActivity(deps: ActivityDeps): ActivityHandle {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return { log: deps.log, heartbeat: () => {}, cancellationSignal: new AbortController().signal, shuttingDown: () => false, identity: null };
  }
  return {
    log: context.log as unknown as Logger,
    heartbeat: (d) => context.heartbeat(d),
    cancellationSignal: context.cancellationSignal,
    shuttingDown: () => Boolean(context.cancellationDetails?.workerShutdown),
    identity: `${context.info.workflowExecution?.workflowId ?? 'standalone'}/${context.info.activityId}`,
  };
}

/** The activity function of one stage. */
export function stageActivity<I, S, R>(activityName: string, def: StageDefinition<I, S, R>, deps: ActivityDeps): (input: I) => Promise<StageResult<unknown>> {
  return async (input: I) => {
    const activity = currentActivity(deps);
    const spec = specRefOf(input);
    const limits = await stageLimits(deps, spec, def);
    const stall = new AbortController();
    const signal = AbortSignal.any([activity.cancellationSignal, stall.signal]);
    let details: HeartbeatDetails = { progress: null, workDir: '', resuming: false };
    let lastProgressAt = Date.now();
    const progressed = (progress: StageProgress | null) => {
      lastProgressAt = Date.now();
      details = { ...details, progress };
      activity.heartbeat(details);
    };
    progressed(null);
    const timer = setInterval(() => {
      const idle = Date.now() - lastProgressAt;
      if (idle > limits.stallMs && !stall.signal.aborted) {
        const last = details.progress ? `${details.progress.stage}${details.progress.item ? ` ${details.progress.item}` : ''} at ${details.progress.done}/${details.progress.total} ${details.progress.unit}` : 'no progress reported';
        stall.abort(new TsaeError('STALLED', `${activityName} made no progress for ${Math.round(idle / 1000)} s (stall limit ${limits.stallMs / 1000} s; last: ${last}); its attempt was stopped`));
      } else if (!stall.signal.aborted) {
        activity.heartbeat(details);
      }
    }, HEARTBEAT_INTERVAL_MS);
    try {
      await injectFault(deps, activityName, def.name);
      if (spec) await checkSameStore(deps.dataDir, spec);
      const result = await produce(activityName, def, input, deps, { signal, activity, progressed, setWork: (workDir, resuming) => (details = { ...details, workDir, resuming }) });
      await clearFailures(deps, activity.identity);
      return result;
    } catch (error) {
      throw await toFailure(signal.aborted && stall.signal.aborted ? stall.signal.reason : error, { deps, activity, limits, activityName, workDir: details.workDir });
    } finally {
      clearInterval(timer);
    }
  };
}

interface RunControl {
  signal: AbortSignal;
  activity: ActivityHandle;
  progressed(progress: StageProgress | null): void;
  setWork(workDir: string, resuming: boolean): void;
}

async function produce<I, S, R>(activityName: string, def: StageDefinition<I, S, R>, input: I, deps: ActivityDeps, control: RunControl): Promise<StageResult<unknown>> {
  const shape = (result: StageResult<S>): StageResult<unknown> => ({ ...result, summary: def.result ? def.result(result.summary) : result.summary });
  await def.validate?.(input, deps);
  const passed = def.passthrough ? await def.passthrough(input, deps) : null;
  if (passed) {
    await def.check?.(passed, input, deps);
    return shape(passed);
  }
  const execute = (work: { workDir: string; resuming: boolean }) => executeStage(activityName, def, input, deps, work, control);
  if (!def.cached) {
    const summary = await execute({ workDir: '', resuming: false });
    const ref = def.refOf ? def.refOf(summary) : { stage: def.name, key: 'uncached', path: '' };
    return shape({ ref, summary, cacheHit: false });
  }
  if (!def.keyOf) throw new TsaeError('INTERNAL', `stage ${def.name} is cached but has no keyOf`);
  const key = await def.keyOf(input, deps);
  const request = { stage: def.name, codeVersion: codeVersionOf(def.module, packageRoot(), def.assets).hash, config: key.config, inputs: key.inputs };
  control.progressed({ stage: def.name, item: 'cache lookup or lock', done: 0, total: 1, unit: 'steps' });
  const result = await deps.store.produce(
    request,
    async (work) => {
      control.setWork(work.workDir, work.resuming);
      if (work.resuming) control.activity.log.info('resuming from the work folder of an earlier attempt', { stage: def.name, workDir: work.workDir });
      return execute(work);
    },
    // Waiting for another producer's lock is progress too: that producer heartbeats its own work.
    { waitForLock: true, signal: control.signal },
  );
  const stageResult: StageResult<S> = { ref: result.ref, summary: result.manifest.summary, cacheHit: result.cacheHit };
  await def.check?.(stageResult, input, deps);
  return shape(stageResult);
}

function executeStage<I, S, R>(activityName: string, def: StageDefinition<I, S, R>, input: I, deps: ActivityDeps, work: { workDir: string; resuming: boolean }, control: RunControl): Promise<S> {
  if (def.resources !== 'light' && deps.runner) {
    return deps.runner.run({ activity: activityName, input, work }, { onProgress: control.progressed, signal: control.signal }) as Promise<S>;
  }
  const ctx: StageContext = { signal: control.signal, log: control.activity.log, onProgress: control.progressed };
  return def.run(input, deps, work, ctx);
}

function specRefOf(input: unknown): SpecRef | null {
  const spec = (input as { spec?: SpecRef } | null)?.spec;
  return spec && typeof spec === 'object' && typeof spec.storeId === 'string' ? spec : null;
}

async function stageLimits(deps: ActivityDeps, spec: SpecRef | null, def: StageDefinition): Promise<{ stallMs: number; maxAttempts: number }> {
  const temporal = spec ? (await loadSpec(deps.store, spec).catch(() => null))?.temporal : undefined;
  const stallSeconds = Math.max(def.stallSeconds ?? 0, temporal?.stallSeconds ?? DEFAULT_STALL_SECONDS);
  return { stallMs: stallSeconds * 1000, maxAttempts: temporal?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS };
}

interface FailureContext {
  deps: ActivityDeps;
  activity: ActivityHandle;
  limits: { maxAttempts: number };
  activityName: string;
  workDir: string;
}

/**
 * Maps an error to what Temporal should do with it: cancellation passes through (or becomes a
 * hand-back on worker shutdown), TsaeErrors become ApplicationFailures typed by their code, and
 * the Nth counted failure becomes a non-retryable STAGE_FAILED.
 */
async function toFailure(error: unknown, context: FailureContext): Promise<unknown> {
  const { activity } = context;
  if (activity.cancellationSignal.aborted) {
    if (!activity.shuttingDown()) return activity.cancellationSignal.reason ?? error;
    error = new TsaeError('WORKER_SHUTDOWN', `the worker stopped while ${context.activityName} ran; the work folder keeps its checkpoints and another attempt resumes from them`);
  }
  if (error instanceof ApplicationFailure) return error;
  const errno = error as NodeJS.ErrnoException;
  let mapped = wrapFsError(error, errno?.path ?? (context.workDir || context.deps.dataDir));
  if (!(mapped instanceof TsaeError)) {
    const plain = mapped as Error;
    mapped = new TsaeError('INTERNAL', `${context.activityName}: ${plain?.message ?? String(mapped)}`, { cause: mapped, details: { stack: plain?.stack?.split('\n').slice(0, 8).join('\n') } });
  }
  const failure = mapped as TsaeError;
  if (!failure.retryable || INFRASTRUCTURE.has(failure.code) || !activity.identity) return applicationFailure(failure, !failure.retryable);
  const count = await countFailure(context.deps, activity.identity);
  if (count < context.limits.maxAttempts) return applicationFailure(failure, false);
  return ApplicationFailure.create({
    type: 'STAGE_FAILED',
    nonRetryable: true,
    message: `${context.activityName} failed ${count} times (temporal.maxAttempts); last: ${failure.code}: ${failure.message}`,
    details: [{ code: failure.code, ...failure.details }],
    cause: applicationFailure(failure, false),
  });
}

function applicationFailure(error: TsaeError, nonRetryable: boolean): ApplicationFailure {
  return ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable, details: [error.details], cause: error });
}

/** Counted failures of one stage start live in the data directory (they survive worker restarts). */
function failuresFile(deps: ActivityDeps, identity: string): string {
  return join(deps.dataDir, 'state', 'attempts', `${sha256Hex(identity).slice(0, 32)}.json`);
}

async function countFailure(deps: ActivityDeps, identity: string): Promise<number> {
  const file = failuresFile(deps, identity);
  const previous = await readFile(file, 'utf8').then((t) => (JSON.parse(t) as { failures: number }).failures).catch(() => 0);
  await writeJsonAtomic(file, { identity, failures: previous + 1 }).catch(() => undefined);
  return previous + 1;
}

async function clearFailures(deps: ActivityDeps, identity: string | null): Promise<void> {
  if (identity) await rm(failuresFile(deps, identity), { force: true }).catch(() => undefined);
}

/** Test hook: `{"<activity or stage name>": "fail"}` in the faults file fails that stage's attempts. */
async function injectFault(deps: ActivityDeps, activityName: string, stageName: string): Promise<void> {
  if (!deps.faultsFile) return;
  const text = await readFile(deps.faultsFile, 'utf8').catch(() => '{}');
  const faults = JSON.parse(text || '{}') as Record<string, string>;
  const mode = faults[activityName] ?? faults[stageName];
  if (mode === 'fail') throw new TsaeError('INTERNAL', `injected fault for stage '${stageName}' (${deps.faultsFile})`);
  if (mode === 'bad-config') throw new TsaeError('BAD_CONFIG', `injected bad config for stage '${stageName}' (${deps.faultsFile})`, { details: { field: 'injected' } });
}
