import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';

/**
 * Progress events that every stage reports; activities forward them as heartbeats and the
 * CLI renders them. `done`/`total` are in `unit` (tokens, steps, shards, ...).
 */
export interface StageProgress {
  stage: string;
  /** What is being worked on now, e.g. a shard name or a variant. */
  item?: string;
  done: number;
  total: number;
  unit: string;
  /** Throughput in `unit`/s over the recent window, when meaningful. */
  rate?: number;
  /** Stage-specific numbers (loss terms, L0, ...), flat and JSON-serialisable. */
  metrics?: Record<string, number>;
}

/** What a stage needs from its caller: cancellation, progress and logging. No Temporal here. */
export interface StageContext {
  signal: AbortSignal;
  onProgress: (progress: StageProgress) => void;
  log: Logger;
}

export function defaultStageContext(overrides: Partial<StageContext> = {}): StageContext {
  return {
    signal: overrides.signal ?? new AbortController().signal,
    onProgress: overrides.onProgress ?? (() => {}),
    log: overrides.log ?? silentLogger,
  };
}

/** Throws the signal's reason if the stage was cancelled; call between units of work. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
}
