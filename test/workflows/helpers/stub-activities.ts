/**
 * Stand-in activities for workflow tests: every activity of the registry, answering at once with
 * results shaped like the real ones, recording the order of calls, and failing where a test
 * says so. The workflow code under test is the real one.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Activities } from '../../../activities/index.js';
import type { ArtifactRef } from '../../../schemas/manifest.js';
import { sumTotals } from '../../../stages/plan/artifact-sets.js';

export interface StubOptions {
  /** Shards in the corpus plan. */
  shards: number;
  /** Mean bytes per shard the plan reports (the workflow sizes tokenize waves from it; default 4000). */
  meanBytes?: number;
  /** Units in the extraction plan: training and eval. */
  units: { train: number; eval: number };
  /** Tokens each tokenized shard yields per split. */
  tokensPerShard: { train: number; test: number };
  /** Activity name -> how to fail (each call consults it; return null to succeed). */
  failures?: Partial<Record<keyof Activities, (call: number) => ApplicationFailure | null>>;
  /** Activity name -> a promise the stub waits for before answering (to hold a run mid-way). */
  gates?: Partial<Record<keyof Activities, Promise<void>>>;
  /** What compareWithReference answers (default: a pass). */
  compareResult?: Record<string, unknown>;
}

export interface StubActivities {
  activities: Activities;
  /** Activity names in the order their calls started, with the activity id and input. */
  calls: { name: string; id: string; input: unknown }[];
}

const ref = (stage: string, key: string): ArtifactRef => ({ stage, key, path: `artifacts/${stage}/${key}` });

export function stubActivities(options: StubOptions): StubActivities {
  const calls: StubActivities['calls'] = [];
  const counts = new Map<string, number>();
  const wrap = <K extends keyof Activities>(name: K, answer: (input: Parameters<Activities[K]>[0]) => unknown) =>
    (async (input: Parameters<Activities[K]>[0]) => {
      let id = '';
      let cancelled: Promise<never> = new Promise(() => {});
      try {
        const context = Context.current();
        id = context.info.activityId;
        cancelled = context.cancelled;
      } catch {
        // called outside an activity
      }
      calls.push({ name, id, input });
      const call = (counts.get(name) ?? 0) + 1;
      counts.set(name, call);
      const failure = options.failures?.[name]?.(call);
      if (failure) throw failure;
      // A gated call waits for its gate, or ends when the activity is cancelled (worker shutdown).
      if (options.gates?.[name]) await Promise.race([options.gates[name], cancelled]);
      return answer(input);
    }) as unknown as Activities[K];
  const activities = {
    initRun: wrap('initRun', (input) => ({ ref: ref('run', 'r'), summary: { runDir: `runs/${input.runId}`, spec: { key: 'spec', path: 'artifacts/spec/spec', storeId: 'store', dataDir: '/data' } }, cacheHit: false })),
    prepareModel: wrap('prepareModel', () => ({ ref: ref('model', 'm'), summary: { modelDir: 'artifacts/model/m', modelHash: 'h', architecture: 'gemma2', dModel: 8, nLayers: 2, vocabSize: 100 }, cacheHit: false })),
    prepareCorpus: wrap('prepareCorpus', () => ({ ref: ref('corpus', 'c'), summary: { corpusPath: '/corpus', demo: null }, cacheHit: false })),
    planCorpus: wrap('planCorpus', () => ({ ref: ref('corpus-plan', 'p'), summary: { plan: ref('corpus-plan', 'p'), count: options.shards, meanBytes: options.meanBytes ?? 4000, compressedShare: 0 }, cacheHit: false })),
    tokenizeShard: wrap('tokenizeShard', (input) => ({
      ref: ref('tokenize', `t${input.plan.index}`),
      summary: { rowsBySplit: { train: 10, val: 0, test: 2 }, tokensBySplit: { train: options.tokensPerShard.train, val: 0, test: options.tokensPerShard.test }, tokens: options.tokensPerShard.train + options.tokensPerShard.test },
      cacheHit: false,
    })),
    planExtraction: wrap('planExtraction', () => ({ ref: ref('extract-plan', 'e'), summary: { plan: ref('extract-plan', 'e'), units: options.units, tokens: { train: 0, eval: 0 } }, cacheHit: false })),
    extractShard: wrap('extractShard', (input) => ({ ref: ref('extract', `x${input.unit.index}`), summary: { tokens: 100 }, cacheHit: false })),
    writeSet: wrap('writeSet', (input) => {
      const summary = { count: input.items.length, totals: sumTotals(input.items.map((i) => i.summary)) };
      return { ref: ref('set', `s${input.items.map((i) => i.ref.key).join('.')}`.slice(0, 40)), summary: { ...summary, set: ref('set', 's') }, cacheHit: false };
    }),
    mergeSets: wrap('mergeSets', (input) => ({ ref: ref('set', 'merged'), summary: { count: input.sets.length, totals: {}, set: ref('set', 'merged') }, cacheHit: false })),
    trainSae: wrap('trainSae', (input) => ({ ref: ref('train', `sae${input.variantIndex}`), summary: { steps: 1 }, cacheHit: false })),
    importExternalSae: wrap('importExternalSae', (input) => ({ ref: ref('external-sae', `ext${input.index}`), summary: {}, cacheHit: false })),
    evaluateSae: wrap('evaluateSae', (input) => ({ ref: ref('evaluate', `${input.label}-${input.family}`), summary: { metrics: { l0: 3, explained_variance: 0.5 } }, cacheHit: false })),
    spliceSaes: wrap('spliceSaes', (input) => ({ ref: ref('splice', input.saes.map((s) => s.label).join('-')), summary: { file: 'splice.json', resumed: false, scores: {}, prompts: 1, timing: {} }, cacheHit: false })),
    collectFeatures: wrap('collectFeatures', () => ({ ref: ref('features', 'f'), summary: { file: 'features.json', latents: 1, tokensScanned: 1 }, cacheHit: false })),
    writeReport: wrap('writeReport', (input) => ({ ref: ref('report', input.runId), summary: { runDir: `runs/${input.runId}` }, cacheHit: false })),
    compareWithReference: wrap('compareWithReference', (input) => ({
      ref: ref('compare', 'x'),
      summary: options.compareResult ?? { runId: input.runId, reference: input.reference, establishedReference: false, pass: true, compared: 10, regressions: [] },
      cacheHit: false,
    })),
  } as unknown as Activities;
  return { activities, calls };
}
