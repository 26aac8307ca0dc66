/**
 * Workers. The workflow worker (queue tsae-workflows) hosts workflow code only: no stage runs
 * in its process, so no stage can delay a workflow task. Activity workers (tsae-cpu,
 * tsae-gpu) run light bookkeeping in process and every heavy stage in a stage process
 * (stage-pool.ts), so their event loops stay free for heartbeats and cancellations. On SIGTERM
 * the worker stops polling, hands running stages back (their attempts end as WORKER_SHUTDOWN,
 * retried without counting, resuming from their checkpoints) and exits.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, Runtime, DefaultLogger, type LogLevel as CoreLogLevel } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { storeIdentity } from '../../lib/artifacts/store-identity.js';
import type { Device } from '../../lib/core/devices.js';
import type { Logger, LogLevel } from '../../lib/core/logger.js';
import { TASK_QUEUES, type QueueKind } from '../../workflows/shared.js';
import { connectClient, connectWorker, type TemporalTarget } from '../temporal/connection.js';
import { ensureSearchAttributes } from '../temporal/register-search-attributes.js';
import { StagePool } from './stage-pool.js';
import { workerIdentity } from './worker-identity.js';

export interface WorkerOptions {
  target: TemporalTarget;
  dataDir: string;
  /** Queues to poll: workflows (workflow code only), cpu, gpu. */
  queues: QueueKind[];
  /** Device this worker's model and SAE stages use. */
  device: Device;
  /** Stages at once per activity queue (each compute stage uses all intra-op threads it is given). */
  concurrency: number;
  log: Logger;
  logLevel?: LogLevel;
  /** Stops the worker gracefully when aborted (Ctrl-C, SIGTERM). */
  signal: AbortSignal;
  /** Run heavy stages in this process instead of stage processes (tests of the adapter only). */
  inProcessStages?: boolean;
}

/** How long running stages get to finish before they are handed back on shutdown. */
const SHUTDOWN_GRACE = '5 seconds';

/** The compiled workflow entry when running from dist/, the TypeScript source otherwise. */
export function workflowsPath(): string {
  const js = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
}

let runtimeInstalled = false;

/** Runs workers on the requested queues until `signal` aborts or a worker fails. */
export async function runWorkers(options: WorkerOptions): Promise<void> {
  if (!runtimeInstalled) {
    // Split workers (workflows only, activities only) are the design here: the SDK's warnings
    // that one of them polls no workflows or no activities are expected, not news.
    const expected = /^No (activities|workflows) registered, not polling/;
    const level = (process.env.TSAE_TEMPORAL_LOG_LEVEL as CoreLogLevel) ?? 'WARN';
    const fallback = new DefaultLogger(level);
    Runtime.install({ logger: new DefaultLogger(level, (entry) => (expected.test(entry.message) ? undefined : fallback.log(entry.level, entry.message, entry.meta))) });
    runtimeInstalled = true;
  }
  const client = await connectClient(options.target);
  try {
    const added = await ensureSearchAttributes(client, options.target.namespace);
    if (added.length) options.log.info('registered search attributes', { added });
  } finally {
    await client.close();
  }
  const store = await storeIdentity(options.dataDir);
  const connection = await connectWorker(options.target);
  const pool = options.inProcessStages
    ? null
    : new StagePool({ dataDir: options.dataDir, device: options.device, logLevel: options.logLevel ?? 'info', log: options.log, size: options.concurrency });
  const activities = createActivities({
    store: new ArtifactStore(options.dataDir),
    dataDir: options.dataDir,
    device: options.device,
    log: options.log,
    runner: pool,
    faultsFile: process.env.TSAE_FAULTS_FILE,
  });
  const identity = workerIdentity(options.dataDir, store.id);
  const workers = await Promise.all(
    options.queues.map((queue) =>
      queue === 'workflows'
        ? Worker.create({ connection, identity, namespace: options.target.namespace, taskQueue: TASK_QUEUES.workflows, workflowsPath: workflowsPath(), shutdownGraceTime: SHUTDOWN_GRACE })
        : Worker.create({
            connection,
            identity,
            namespace: options.target.namespace,
            taskQueue: TASK_QUEUES[queue],
            activities,
            maxConcurrentActivityTaskExecutions: options.concurrency,
            shutdownGraceTime: SHUTDOWN_GRACE,
            // Heartbeats carry live progress for `tsae status` and the UI: send them every few
            // seconds instead of the SDK default (80% of the heartbeat timeout).
            maxHeartbeatThrottleInterval: '3 seconds',
            defaultHeartbeatThrottleInterval: '3 seconds',
          }),
    ),
  );
  options.log.info('worker started', { queues: options.queues.map((q) => TASK_QUEUES[q]), device: options.device, dataDir: options.dataDir, store: store.id });
  const stop = () => workers.forEach((w) => w.shutdown());
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    options.signal.removeEventListener('abort', stop);
    await pool?.close();
    await connection.close();
  }
}

/** Queues a worker started with `--queue` polls. */
export function queuesOf(choice: 'workflows' | 'cpu' | 'gpu' | 'all', device: Device): QueueKind[] {
  if (choice === 'all') return device === 'cpu' ? ['workflows', 'cpu'] : ['workflows', 'cpu', 'gpu'];
  return [choice];
}
