/**
 * Inputs, outputs and progress of the pipeline workflows. Types only (plus zod where the CLI
 * validates); workflows import these as types, so nothing here touches Node.
 */
import type { ArtifactRef } from './manifest.js';
export type { ArtifactRef };

/**
 * The run spec as activities receive it: a content-addressed JSON artifact written when the run
 * starts, plus the identity of the data store it lives in (lib/artifacts/store-identity.ts).
 */
export interface SpecRef {
  key: string;
  path: string;
  /** Identity of the run's data store: a worker with another store refuses the work. */
  storeId: string;
  /** The run's data directory as seen by the worker that started it (for error messages). */
  dataDir: string;
}

/** The slice of the spec that workflow code needs to choose queues and timeouts. */
export interface RunSettings {
  device: 'cpu' | 'cuda' | 'webgpu';
  heartbeatTimeoutSeconds: number;
  awaitResumeHours?: number;
  fanOutWindow: number;
  fanOutBatch: number;
}

/** One entry of a plan artifact (a JSON array): fan-out passes the plan's reference and an index. */
export interface PlanItemRef {
  plan: ArtifactRef;
  index: number;
}

/** A fan-out's result: a set artifact listing every unit's StageResult, and summed totals. */
export interface SetSummary {
  count: number;
  /** Sums of the units' numeric totals (tokens, rows, skipped documents, ...). */
  totals: Record<string, number>;
}

/** What every stage activity returns: where its artifact is and whether work was done. */
export interface StageResult<S = unknown> {
  ref: ArtifactRef;
  summary: S;
  /** True when the artifact existed already and the activity did no work. */
  cacheHit: boolean;
}

export type StageStatus = 'pending' | 'running' | 'done' | 'awaiting-resume' | 'failed' | 'cancelled';

export interface StageState {
  name: string;
  status: StageStatus;
  /** How many times the stage was (re)started by the workflow (1 + resumes). */
  starts: number;
  cacheHit?: boolean;
  error?: string;
  ref?: ArtifactRef;
  startedAt?: string;
  finishedAt?: string;
}

export interface PipelineProgress {
  runId: string;
  status: 'running' | 'awaiting-resume' | 'completed' | 'failed' | 'cancelled';
  stages: StageState[];
  /** Running child workflows by label (SAE variants, fan-out batches). */
  children: Record<string, string>;
  /** Fan-out phases and their unit counts ("extract train": 120 of 431 done). */
  phases: Record<string, { done: number; total: number }>;
  /** Stages of descendant workflows that wait for `tsae resume`, with their errors. */
  awaiting: string[];
}

/** Input of the pipeline workflow: the validated spec (plain JSON) and nothing secret. */
export interface PipelineInput {
  spec: import('./run-spec.js').RunSpec;
  /** The root of the run's workflow tree when this pipeline is itself a child (a nightly run). */
  rootId?: string;
}

/** A corpus ready for planning: the demo artifact's folder, or the user's path. */
export interface CorpusSummary {
  /** Absolute path of the corpus (file, folder or glob). */
  corpusPath: string;
  /** The demo builder's summary (sources, licences, sizes) when the corpus is the demo. */
  demo: unknown;
}

/** A model ready for extraction (a folder in the transformers.js layout). */
export interface ModelSummary {
  /** Folder of the model: relative to the data directory for prepared models, absolute for user folders. */
  modelDir: string;
  modelHash: string;
  architecture: string;
  dModel: number;
  nLayers: number;
  vocabSize: number;
}

export interface TokenShardSummary {
  rows: number;
  tokens: number;
  rowsBySplit: Record<'train' | 'val' | 'test', number>;
  tokensBySplit: Record<'train' | 'val' | 'test', number>;
  skipped: number;
}

/** One unit of extraction fan-out: a row range of one split of one token shard. */
export interface ExtractUnit {
  tokenShard: StageResult<TokenShardSummary>['ref'];
  split: 'train' | 'val' | 'test';
  /** Index range among the rows of that split in that shard. */
  rowStart: number;
  rowEnd: number;
  purpose: 'train' | 'eval';
}

export interface VariantInput {
  spec: SpecRef;
  /** The slice of the spec the workflow needs (queues, timeouts, families): the rest stays by reference. */
  settings: RunSettings;
  families: import('./eval.js').EvalFamily[];
  /** Where the SAE comes from: trained from `sae.variants[variantIndex]`, or imported from `sae.external[index]`. */
  source: { kind: 'train'; variantIndex: number } | { kind: 'external'; index: number };
  label: string;
  /** The run's root workflow (told when a stage here waits for a resume). */
  rootId: string;
  model: StageResult<ModelSummary>;
  /** The prepared corpus (probing tasks read their labelled texts from it). */
  corpus: StageResult<CorpusSummary>;
  /** Extraction sets of the training and held-out activations. */
  trainSet: ArtifactRef;
  evalSet: ArtifactRef;
}

export interface VariantResult {
  label: string;
  /** Trained here, or imported from a folder trained elsewhere. */
  kind: 'train' | 'external';
  sae: StageResult<unknown>;
  evals: Record<string, StageResult<unknown>>;
  /** Feature-browser data (top contexts, logit effects), when the evals ran. */
  features: StageResult<unknown> | null;
  stages: StageState[];
}

export interface PipelineResult {
  runId: string;
  runDir: string;
  variants: VariantResult[];
  stages: StageState[];
  /** True when every compute stage was served from the artifact cache. */
  allCacheHits: boolean;
}

/** Input of the nightly reproduction workflow (what a Schedule starts). */
export interface NightlyInput {
  spec: import('./run-spec.js').RunSpec;
  /** Name of the stored reference (under <data>/references/<name>.json). */
  reference: string;
  /** Metric path suffix -> tolerance; defaults apply elsewhere. */
  tolerances?: Record<string, { absolute: number; relative: number }>;
}

export interface NightlyResult {
  runId: string;
  reference: string;
  /** True when this run became the reference (none existed yet). */
  establishedReference: boolean;
  pass: boolean;
  compared: number;
  regressions: { metric: string; value: number | null; reference: number | null; reason?: string }[];
}
