/**
 * Worker identities name the data store a worker serves (`<pid>@<host> data=<dir> store=<id>`),
 * so the Web UI's pollers list shows it, and `tsae dev` can tell when a server it reuses already
 * has workers serving another data directory.
 */
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { TASK_QUEUES } from '../../workflows/shared.js';

export function workerIdentity(dataDir: string, storeId: string): string {
  return `${process.pid}@${hostname()} data=${dataDir} store=${storeId}`;
}

export interface ForeignWorker {
  identity: string;
  dataDir: string;
  storeId: string;
}

/** Workers polling tsae's activity queues that serve a store other than `storeId`. */
export async function foreignWorkers(client: Client, namespace: string, storeId: string): Promise<ForeignWorker[]> {
  const found: ForeignWorker[] = [];
  for (const queue of [TASK_QUEUES.cpu, TASK_QUEUES.gpu]) {
    const response = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: queue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    for (const poller of response.pollers ?? []) {
      const identity = poller.identity ?? '';
      const match = /data=(\S+) store=(\S+)/.exec(identity);
      if (match && match[2] !== storeId && !found.some((f) => f.identity === identity)) found.push({ identity, dataDir: match[1], storeId: match[2] });
    }
  }
  return found;
}
