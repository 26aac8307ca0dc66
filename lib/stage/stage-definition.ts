/**
 * The stage contract. A stage is a self-describing module: its name, what of its input shapes
 * the artifact (`keyOf`), where it runs (`resources`) and `run`. Its cache version is not
 * written by hand: it is the hash of the code `run` reaches (lib/artifacts/code-version.ts),
 * computed from the module that defines the stage. One generic adapter
 * (activities/stage-activity.ts) turns every definition into a Temporal activity; benchmarks
 * and tests call `run` directly.
 */
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { StageResult } from '../../schemas/pipeline.js';
import type { ArtifactStore, WorkContext } from '../artifacts/store.js';
import type { StageContext } from '../core/context.js';
import type { Logger } from '../core/logger.js';
import type { Device } from '../core/devices.js';

/** What a worker gives every stage: its data store, device and logger. One type, no cycles. */
export interface StageDeps {
  store: ArtifactStore;
  dataDir: string;
  /** Device this worker runs model and SAE compute on. */
  device: Device;
  log: Logger;
}

/**
 * - `light`: bookkeeping (plans, sets, run records): runs inside the activity worker's process.
 * - `cpu`: heavy JavaScript or I/O (tokenization, reports): runs in a stage process, cpu queue.
 * - `compute`: model or SAE compute: runs in a stage process, on the gpu queue when the spec's
 *   device is not cpu.
 */
export type StageResources = 'light' | 'cpu' | 'compute';

/** What of a stage's input determines its artifact. */
export interface StageKey {
  /** Configuration by value (canonical JSON). */
  config: unknown;
  /** Keys (content addresses) of the artifacts and files it reads. */
  inputs: string[];
}

export interface StageDefinition<I = any, S = any, R = S> {
  /** Artifact folder name: `<data>/artifacts/<name>/<key>/`; also the activity name. */
  name: string;
  /** `import.meta.url` of the module that defines the stage: the root of its code version. */
  module: string;
  /** Project-relative files the stage executes besides JavaScript (Python scripts, pins). */
  assets?: string[];
  resources: StageResources;
  /** False for per-run outputs that are rebuilt every time (run records, the report). */
  cached: boolean;
  /** Seconds without progress after which an attempt is failed as stalled (default: the spec's). */
  stallSeconds?: number;
  /** Cache key material (cached stages): every input that affects the output, by value or by content key. */
  keyOf?(input: I, deps: StageDeps): StageKey | Promise<StageKey>;
  /** Does the work in `work.workDir` (resuming from its checkpoints) and returns the summary. */
  run(input: I, deps: StageDeps, work: WorkContext, ctx: StageContext): Promise<S>;
  /** What the workflow gets back, when smaller than the manifest's summary (default: all of it). */
  result?(summary: S): R;
  /** Uncached stages that store their own content-addressed output: its reference. */
  refOf?(summary: S): ArtifactRef;
  /**
   * Inputs that need no work (a user's own model folder, an external corpus path): the result,
   * or null to go through the artifact store.
   */
  passthrough?(input: I, deps: StageDeps): Promise<StageResult<S> | null>;
  /** Refuses an input before any work or cache lookup (e.g. a tokenizer that does not fit the model). */
  validate?(input: I, deps: StageDeps): Promise<void>;
  /** Checks a result against this input, also on a cache hit (e.g. a layer the model lacks). */
  check?(result: StageResult<S>, input: I, deps: StageDeps): Promise<void>;
}

/** Identity helper that keeps the input and summary types of a definition. */
export function defineStage<I, S, R = S>(definition: StageDefinition<I, S, R>): StageDefinition<I, S, R> {
  return definition;
}

/** The input of a stage definition. */
export type StageInput<D> = D extends StageDefinition<infer I, any, any> ? I : never;
/** What the workflow receives as a stage's summary (`result` of the full summary). */
export type StageOutput<D> = D extends StageDefinition<any, any, infer R> ? R : never;
