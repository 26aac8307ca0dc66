import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, Runtime, DefaultLogger, type LogLevel as CoreLogLevel } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import type { Device } from '../../lib/onnx/backend.js';
import type { Logger } from '../../lib/core/logger.js';
import { TASK_QUEUES, type QueueKind } from '../../workflows/shared.js';
import { connectClient, connectWorker, type TemporalTarget } from '../temporal/connection.js';
import { ensureSearchAttributes } from '../temporal/register-search-attributes.js';

export interface WorkerOptions {
  target: TemporalTarget;
  dataDir: string;
  /** Queues to poll; workflows run on the cpu queue only. */
  queues: QueueKind[];
  /** Device this worker's model and SAE activities use. */
  device: Device;
  /** Activities run at once per queue (each compute activity uses all intra-op threads it is given). */
  concurrency: number;
  log: Logger;
  /** Stops the worker gracefully when aborted (Ctrl-C). */
  signal: AbortSignal;
}

/** The compiled workflow entry when running from dist/, the TypeScript source otherwise. */
export function workflowsPath(): string {
  const js = fileURLToPath(new URL('../../workflows/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
}

let runtimeInstalled = false;

/** Runs workers on the requested queues until `signal` aborts or a worker fails. */
export async function runWorkers(options: WorkerOptions): Promise<void> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger((process.env.TSAE_TEMPORAL_LOG_LEVEL as CoreLogLevel) ?? 'WARN') });
    runtimeInstalled = true;
  }
  const client = await connectClient(options.target);
  try {
    const added = await ensureSearchAttributes(client, options.target.namespace);
    if (added.length) options.log.info('registered search attributes', { added });
  } finally {
    await client.close();
  }
  const connection = await connectWorker(options.target);
  const activities = createActivities({
    store: new ArtifactStore(options.dataDir),
    dataDir: options.dataDir,
    device: options.device,
    log: options.log,
    faultsFile: process.env.TSAE_FAULTS_FILE,
  });
  const workers = await Promise.all(
    options.queues.map((queue) =>
      Worker.create({
        connection,
        namespace: options.target.namespace,
        taskQueue: TASK_QUEUES[queue],
        activities,
        ...(queue === 'cpu' ? { workflowsPath: workflowsPath() } : {}),
        maxConcurrentActivityTaskExecutions: options.concurrency,
        shutdownGraceTime: '10 seconds',
        // Heartbeats carry live progress for `tsae status` and the UI: send them every few
        // seconds instead of the SDK default (80% of the heartbeat timeout).
        maxHeartbeatThrottleInterval: '3 seconds',
        defaultHeartbeatThrottleInterval: '3 seconds',
      }),
    ),
  );
  options.log.info('worker started', { queues: options.queues.map((q) => TASK_QUEUES[q]), device: options.device, dataDir: options.dataDir });
  const stop = () => workers.forEach((w) => w.shutdown());
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    options.signal.removeEventListener('abort', stop);
    await connection.close();
  }
}
