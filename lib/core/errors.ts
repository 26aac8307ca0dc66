/**
 * One error type for the whole project. `retryable` tells the activity layer whether
 * Temporal should try again (a transient fault) or fail fast (bad input, bad config).
 */
export type ErrorCode =
  | 'BAD_INPUT' // a file or record the user supplied is malformed
  | 'BAD_CONFIG' // a spec or option is invalid
  | 'NOT_FOUND' // a required file, model or artifact is missing
  | 'CORRUPT_ARTIFACT' // a manifest or checksum does not match
  | 'DEVICE_UNAVAILABLE' // an execution provider is missing
  | 'DISK_FULL' // ENOSPC while writing
  | 'BUSY' // another process holds the artifact lock
  | 'STALLED' // a stage made no progress for its stall time
  | 'STAGE_CRASHED' // the stage process died (native crash, out of memory)
  | 'WRONG_DATA_STORE' // this worker's data directory is not the run's
  | 'WORKER_SHUTDOWN' // the worker is stopping; the work is handed back
  | 'INTERNAL';

export class TsaeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Structured facts (file, line, field, ...) for logs and failure details. */
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TsaeError';
    this.code = code;
    this.retryable = options.retryable ?? defaultRetryable(code);
    this.details = options.details ?? {};
  }
}

const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['BUSY', 'DISK_FULL', 'STALLED', 'STAGE_CRASHED', 'WRONG_DATA_STORE', 'WORKER_SHUTDOWN', 'INTERNAL']);

function defaultRetryable(code: ErrorCode): boolean {
  return RETRYABLE.has(code);
}

export function badInput(message: string, details: Record<string, unknown> = {}): TsaeError {
  return new TsaeError('BAD_INPUT', message, { details });
}

export function badConfig(message: string, details: Record<string, unknown> = {}): TsaeError {
  return new TsaeError('BAD_CONFIG', message, { details });
}

/** Maps Node's ENOSPC into a clear, retryable error that names the path. */
export function wrapFsError(error: unknown, path: string): unknown {
  const errno = error as NodeJS.ErrnoException | undefined;
  if (errno?.code === 'ENOSPC') {
    const where = errno.path ?? path;
    return new TsaeError('DISK_FULL', `No space left on device while writing ${where}; free space and resume`, {
      details: { path: where },
      cause: error,
    });
  }
  return error;
}
