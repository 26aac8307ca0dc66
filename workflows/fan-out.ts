/**
 * A fan-out over a range of a plan artifact (corpus shards to tokenize, row ranges to extract)
 * as a tree of workflows: a leaf runs at most `fanOutBatch` units, `fanOutWindow` at a time,
 * and stores their results as one set artifact; a branch gives contiguous sub-ranges to child
 * fan-outs and merges their sets. No workflow's history, input or result grows with the plan:
 * each holds at most `fanOutBatch` units or children, and passes set references upward.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef } from '../schemas/manifest.js';
import type { CorpusSummary, ModelSummary, RunSettings, SpecRef, StageResult } from '../schemas/pipeline.js';
import { callActivity, mapWindow } from './calls.js';
import { splitRange } from './plan.js';
import { TsaeRunIdKey } from './search-attributes.js';
import { StageRunner } from './stage-runner.js';

export type FanOutWork =
  | { kind: 'tokenize'; model: StageResult<ModelSummary>; corpus: StageResult<CorpusSummary> }
  | { kind: 'extract'; model: StageResult<ModelSummary> };

export interface FanOutInput {
  spec: SpecRef;
  settings: RunSettings;
  work: FanOutWork;
  plan: ArtifactRef;
  /** Plan indices [start, end) this workflow covers. */
  start: number;
  end: number;
  /** For labels: "extract train 17/431" numbers units from `labelOffset` within `labelTotal`. */
  label: string;
  labelOffset: number;
  labelTotal: number;
  rootId: string;
}

export interface FanOutResult {
  set: ArtifactRef;
  count: number;
  totals: Record<string, number>;
}

export async function fanOutWorkflow(input: FanOutInput): Promise<FanOutResult> {
  const runner = new StageRunner(workflowInfo().workflowId, { rootId: input.rootId, awaitResumeHours: input.settings.awaitResumeHours });
  try {
    const ranges = splitRange(input.start, input.end, input.settings.fanOutBatch);
    const result = ranges ? await runBranch(input, ranges, runner) : await runLeaf(input, runner);
    runner.finish('completed');
    return result;
  } catch (error) {
    runner.fail(error);
    throw error;
  }
}

async function runLeaf(input: FanOutInput, runner: StageRunner): Promise<FanOutResult> {
  const indices = Array.from({ length: input.end - input.start }, (_, i) => input.start + i);
  let done = 0;
  runner.setPhase(input.label, 0, indices.length);
  const results = await mapWindow(indices, input.settings.fanOutWindow, async (index) => {
    const name = `${input.label} ${index - input.labelOffset + 1}/${input.labelTotal}`;
    const result = await runner.run(name, (start) => runUnit(input, index, { id: `${name}#${start}`, summary: name, settings: input.settings }));
    runner.setPhase(input.label, ++done, indices.length);
    return result;
  });
  const set = await runner.run(`${input.label} set`, (start) =>
    callActivity('writeSet', { spec: input.spec, kind: input.work.kind, items: results as StageResult<Record<string, unknown>>[] }, { id: `set#${start}`, summary: `${input.label}: set of ${results.length}`, settings: input.settings }),
  );
  return { set: set.ref, count: set.summary.count, totals: set.summary.totals };
}

function runUnit(input: FanOutInput, index: number, call: { id: string; summary: string; settings: RunSettings }): Promise<StageResult<unknown>> {
  const { work } = input;
  if (work.kind === 'tokenize') return callActivity('tokenizeShard', { spec: input.spec, model: work.model, corpus: work.corpus, plan: { plan: input.plan, index } }, call);
  return callActivity('extractShard', { spec: input.spec, model: work.model, unit: { plan: input.plan, index } }, call);
}

async function runBranch(input: FanOutInput, ranges: { start: number; end: number }[], runner: StageRunner): Promise<FanOutResult> {
  const parent = workflowInfo().workflowId;
  let done = 0;
  runner.setPhase(input.label, 0, input.end - input.start);
  const parts = await mapWindow(ranges, input.settings.fanOutWindow, async (range) => {
    const childId = `${parent}/${range.start}-${range.end}`;
    const label = `${range.start}-${range.end}`;
    runner.setChild(label, childId);
    const part = await executeChild(fanOutWorkflow, {
      workflowId: childId,
      args: [{ ...input, start: range.start, end: range.end }],
      staticSummary: `${input.label} ${range.start - input.labelOffset + 1}-${range.end - input.labelOffset} of ${input.labelTotal}`,
      typedSearchAttributes: runAttributes(input.rootId),
    });
    runner.removeChild(label);
    done += range.end - range.start;
    runner.setPhase(input.label, done, input.end - input.start);
    return part;
  });
  const merged = await runner.run(`${input.label} merge`, (start) =>
    callActivity('mergeSets', { spec: input.spec, kind: input.work.kind, sets: parts.map((p) => p.set) }, { id: `merge#${start}`, summary: `${input.label}: merge ${parts.length} sets`, settings: input.settings }),
  );
  return { set: merged.ref, count: merged.summary.count, totals: merged.summary.totals };
}

/** Search attributes every workflow of a run carries, so the UI can list a run's whole tree. */
export function runAttributes(rootId: string) {
  return [{ key: TsaeRunIdKey, value: rootId }];
}
