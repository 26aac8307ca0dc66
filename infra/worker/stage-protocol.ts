/** Messages between an activity worker and its stage processes (Node IPC, structured clone). */
import type { StageProgress } from '../../lib/core/context.js';
import type { Device } from '../../lib/core/devices.js';
import type { LogLevel } from '../../lib/core/logger.js';

export interface RunJob {
  type: 'run';
  id: number;
  /** Activity name: the key of the stage in stages/registry.ts. */
  activity: string;
  input: unknown;
  work: { workDir: string; resuming: boolean };
  deps: { dataDir: string; device: Device; logLevel: LogLevel };
}

export type HostMessage =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: StageProgress }
  | { type: 'log'; id: number; level: LogLevel; message: string; data?: Record<string, unknown> }
  | { type: 'done'; id: number; summary: unknown; rssBytes: number }
  | { type: 'error'; id: number; error: SerializedError; rssBytes: number };

/** An error as it crosses the process boundary; TsaeErrors keep their code and retryability. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
}
