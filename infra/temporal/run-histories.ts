/**
 * Every workflow history of a run (the root and all workflows tagged with its TsaeRunId), with
 * the figures Temporal limits: events per history, history bytes, the largest payload. Used by
 * the scale test and the pipeline benchmark.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;

export interface ActivitySpan {
  workflowId: string;
  activityType: string;
  scheduledMs: number;
  startedMs: number | null;
  closedMs: number | null;
}

export interface HistoryFigures {
  workflowId: string;
  events: number;
  bytes: number;
  largestPayloadBytes: number;
}

export interface RunHistories {
  histories: HistoryFigures[];
  activities: ActivitySpan[];
}

const EventType = temporal.api.enums.v1.EventType;

export async function collectRunHistories(client: Client, rootId: string): Promise<RunHistories> {
  const ids = new Set<string>([rootId]);
  for await (const execution of client.workflow.list({ query: `TsaeRunId = "${rootId}"` })) ids.add(execution.workflowId);
  const histories: HistoryFigures[] = [];
  const activities: ActivitySpan[] = [];
  for (const workflowId of [...ids].sort()) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const bytes = temporal.api.history.v1.History.encode(history).finish().byteLength;
    let largestPayloadBytes = 0;
    const scheduled = new Map<number, ActivitySpan>();
    for (const event of events) {
      for (const payload of payloadsOf(event)) largestPayloadBytes = Math.max(largestPayloadBytes, payload);
      const time = event.eventTime ? Number(event.eventTime.seconds ?? 0) * 1000 + Math.floor((event.eventTime.nanos ?? 0) / 1e6) : 0;
      if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        scheduled.set(Number(event.eventId), { workflowId, activityType: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', scheduledMs: time, startedMs: null, closedMs: null });
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const span = scheduled.get(Number(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (span) span.startedMs = time;
      } else {
        const closing = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes ?? event.activityTaskCanceledEventAttributes;
        const span = closing ? scheduled.get(Number(closing.scheduledEventId)) : undefined;
        if (span) span.closedMs = time;
      }
    }
    histories.push({ workflowId, events: events.length, bytes, largestPayloadBytes });
    activities.push(...scheduled.values());
  }
  return { histories, activities };
}

/** Byte sizes of the payloads an event carries (inputs, results, details). */
function payloadsOf(event: proto.temporal.api.history.v1.IHistoryEvent): number[] {
  const sizes: number[] = [];
  const walk = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 6) return;
    const payloads = (value as { payloads?: { data?: Uint8Array | null }[] }).payloads;
    if (Array.isArray(payloads)) {
      for (const p of payloads) sizes.push(p?.data?.byteLength ?? 0);
      return;
    }
    for (const child of Object.values(value)) walk(child, depth + 1);
  };
  walk(event, 0);
  return sizes;
}
