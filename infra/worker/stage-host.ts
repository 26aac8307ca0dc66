/**
 * A stage process: runs stages for an activity worker, one job at a time, so that synchronous
 * JavaScript (tokenization, probe fits, clustering, report rendering) and native code
 * (onnxruntime) never block the worker's event loop, its heartbeats or its cancellations, and
 * a native crash takes down only this process and the one stage it ran. Started by
 * stage-pool.ts with `fork`; cancellation is a kill from the parent.
 */
import { ArtifactStore } from '../../lib/artifacts/store.js';
import type { StageProgress } from '../../lib/core/context.js';
import { TsaeError } from '../../lib/core/errors.js';
import { createJsonLogger, type Logger, type LogLevel } from '../../lib/core/logger.js';
import { STAGES, type StageName } from '../../stages/registry.js';
import type { HostMessage, RunJob, SerializedError } from './stage-protocol.js';

/** Progress is forwarded at most this often (plus the last event): stages may report every step. */
const PROGRESS_INTERVAL_MS = 500;

function send(message: HostMessage): void {
  process.send?.(message);
}

function serializeError(error: unknown): SerializedError {
  if (error instanceof TsaeError) return { name: error.name, message: error.message, stack: error.stack, code: error.code, retryable: error.retryable, details: error.details };
  const plain = error as Error;
  return { name: plain?.name ?? 'Error', message: plain?.message ?? String(error), stack: plain?.stack };
}

function ipcLogger(id: number, level: LogLevel): Logger {
  const local = createJsonLogger(level, (line) => {
    const { level: lineLevel, message, time: _time, ...data } = JSON.parse(line) as { level: LogLevel; message: string; time: string };
    send({ type: 'log', id, level: lineLevel, message, data });
  });
  return local;
}

async function runJob(job: RunJob): Promise<void> {
  const stage = STAGES[job.activity as StageName];
  const rss = () => process.memoryUsage().rss;
  if (!stage) {
    send({ type: 'error', id: job.id, error: serializeError(new TsaeError('INTERNAL', `unknown stage '${job.activity}'`)), rssBytes: rss() });
    return;
  }
  let lastSent = 0;
  let pending: StageProgress | null = null;
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    if (pending) send({ type: 'progress', id: job.id, progress: pending });
    pending = null;
    lastSent = Date.now();
  };
  const onProgress = (progress: StageProgress) => {
    pending = progress;
    const wait = PROGRESS_INTERVAL_MS - (Date.now() - lastSent);
    if (wait <= 0) flush();
    else timer ??= setTimeout(flush, wait);
  };
  const log = ipcLogger(job.id, job.deps.logLevel);
  const deps = { store: new ArtifactStore(job.deps.dataDir), dataDir: job.deps.dataDir, device: job.deps.device, log };
  try {
    const summary = await stage.run(job.input as never, deps, job.work, { signal: new AbortController().signal, onProgress, log });
    if (timer) clearTimeout(timer);
    flush();
    send({ type: 'done', id: job.id, summary, rssBytes: rss() });
  } catch (error) {
    if (timer) clearTimeout(timer);
    flush();
    send({ type: 'error', id: job.id, error: serializeError(error), rssBytes: rss() });
  }
}

process.on('message', (message: RunJob) => {
  if (message?.type === 'run') void runJob(message);
});
// The parent going away (worker killed) must not leave an orphan doing work nobody will use.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
