/**
 * A pool of stage processes (stage-host.ts) for one activity worker: at most `size` at once,
 * reused between jobs so per-process caches (tokenizers, model-level probes) stay warm.
 * Cancelling a job kills its process (SIGTERM, then SIGKILL); a process that dies mid-job
 * fails only that job (STAGE_CRASHED); one that grew past `recycleRssBytes` is not reused.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StageProgress } from '../../lib/core/context.js';
import type { Device } from '../../lib/core/devices.js';
import { TsaeError } from '../../lib/core/errors.js';
import type { Logger, LogLevel } from '../../lib/core/logger.js';
import type { HostMessage, RunJob, SerializedError } from './stage-protocol.js';

export interface StagePoolOptions {
  dataDir: string;
  device: Device;
  logLevel: LogLevel;
  log: Logger;
  /** Processes kept for reuse. */
  size: number;
  /** A process above this resident size after a job is stopped instead of reused. */
  recycleRssBytes?: number;
}

export interface StageJob {
  activity: string;
  input: unknown;
  work: { workDir: string; resuming: boolean };
}

export interface JobHooks {
  onProgress(progress: StageProgress): void;
  signal: AbortSignal;
}

const KILL_GRACE_MS = 3_000;
const DEFAULT_RECYCLE_RSS = 3 * 1024 ** 3;

function hostPath(): string {
  const js = fileURLToPath(new URL('./stage-host.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./stage-host.ts', import.meta.url));
}

export class StagePool {
  private readonly idle: ChildProcess[] = [];
  private readonly busy = new Set<ChildProcess>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: StagePoolOptions) {}

  /** Runs one stage job in a stage process; resolves with the stage's summary. */
  async run(job: StageJob, hooks: JobHooks): Promise<unknown> {
    if (this.closed) throw new TsaeError('WORKER_SHUTDOWN', 'the worker is shutting down');
    if (hooks.signal.aborted) throw hooks.signal.reason;
    const child = this.idle.pop() ?? this.spawn();
    this.busy.add(child);
    const id = this.nextId++;
    const message: RunJob = {
      type: 'run',
      id,
      activity: job.activity,
      input: job.input,
      work: job.work,
      deps: { dataDir: this.options.dataDir, device: this.options.device, logLevel: this.options.logLevel },
    };
    let rss = 0;
    try {
      return await new Promise<unknown>((resolve, reject) => {
        const onMessage = (msg: HostMessage) => {
          if (msg.type === 'ready' || !('id' in msg) || msg.id !== id) return;
          if (msg.type === 'progress') hooks.onProgress(msg.progress);
          else if (msg.type === 'log') this.options.log[msg.level](msg.message, { stage: job.activity, ...msg.data });
          else if (msg.type === 'done') settle(() => ((rss = msg.rssBytes), resolve(msg.summary)));
          else if (msg.type === 'error') settle(() => ((rss = msg.rssBytes), reject(deserializeError(msg.error))));
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
          settle(() =>
            reject(
              hooks.signal.aborted
                ? hooks.signal.reason
                : new TsaeError('STAGE_CRASHED', `the stage process running ${job.activity} exited (${signal ? `signal ${signal}` : `code ${code}`}); this is a native crash or the system's out-of-memory killer, and only this stage failed`, {
                    details: { code, signal },
                  }),
            ),
          );
        const onAbort = () => {
          this.kill(child);
          // The exit event settles the promise with the abort reason.
        };
        const settle = (fn: () => void) => {
          child.off('message', onMessage);
          child.off('exit', onExit);
          hooks.signal.removeEventListener('abort', onAbort);
          fn();
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        hooks.signal.addEventListener('abort', onAbort, { once: true });
        child.send(message);
      });
    } finally {
      this.busy.delete(child);
      const reusable = child.exitCode === null && child.signalCode === null && !hooks.signal.aborted && !this.closed;
      if (reusable && this.idle.length < this.options.size && rss < (this.options.recycleRssBytes ?? DEFAULT_RECYCLE_RSS)) this.idle.push(child);
      else this.kill(child);
    }
  }

  /** Process ids of the stage processes running jobs now (diagnostics and tests). */
  busyPids(): number[] {
    return [...this.busy].map((child) => child.pid!).filter(Boolean);
  }

  /** Stops every stage process (running jobs fail with the abort reasons of their signals). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.busy];
    this.idle.length = 0;
    await Promise.all(all.map((child) => this.kill(child)));
  }

  private spawn(): ChildProcess {
    const child = fork(hostPath(), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    child.on('error', (error) => this.options.log.warn('stage process error', { error: String(error) }));
    return child;
  }

  private kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

function deserializeError(error: SerializedError): Error {
  if (error.code) {
    const restored = new TsaeError(error.code as never, error.message, { retryable: error.retryable, details: error.details });
    if (error.stack) restored.stack = error.stack;
    return restored;
  }
  const restored = new Error(error.message);
  restored.name = error.name;
  if (error.stack) restored.stack = error.stack;
  return restored;
}
