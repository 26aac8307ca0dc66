/**
 * Typed activity calls with an activity id and a one-line summary per call, so the Web UI's
 * event list reads "extract train 17/431" instead of a sequence number. Options come from the
 * profiles in shared.ts.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { activityOptions, type ActivityName, type RunSettings } from './shared.js';

/**
 * Calls activity `name`. `id` must be unique within the workflow: callers include the stage's
 * start number (1 + resumes).
 */
export function callActivity<K extends ActivityName>(name: K, input: Parameters<Activities[K]>[0], call: { id: string; summary: string; settings: RunSettings }): ReturnType<Activities[K]> {
  const proxy = proxyActivities<Activities>({ ...activityOptions(name, call.settings), activityId: call.id, summary: call.summary });
  return (proxy[name] as unknown as (input: Parameters<Activities[K]>[0]) => ReturnType<Activities[K]>)(input);
}

/** Runs `fn` over `items` with at most `window` calls in flight, keeping the results in order. */
export async function mapWindow<T, R>(items: readonly T[], window: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
  return results;
}
