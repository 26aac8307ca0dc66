import type { BadInputPolicy, CorruptionReason, SkipReason, SkipReport } from '../../schemas/corpus.js';
import { CORRUPTION_REASONS } from '../../schemas/corpus.js';
import { badInput, TsaeError } from '../../lib/core/errors.js';

/** Locations kept per reason; counts stay exact beyond it. */
export const MAX_SKIP_LOCATIONS = 1000;

/**
 * Counts bad records per reason with their "file:line" locations. Under the 'fail' policy the
 * first bad record throws a non-retryable BAD_INPUT error that names the location and reason.
 */
export class SkipLog {
  private readonly reports = new Map<SkipReason, SkipReport>();

  constructor(
    readonly policy: BadInputPolicy,
    initial: Record<string, SkipReport> = {},
  ) {
    for (const [reason, report] of Object.entries(initial)) {
      this.reports.set(reason as SkipReason, { ...report, locations: [...report.locations] });
    }
  }

  /** Records one bad record, or throws under the 'fail' policy. `detail` explains it in the error. */
  record(reason: SkipReason, location: string, detail = ''): void {
    if (this.policy === 'fail') {
      throw badInput(`Bad corpus record at ${location}: ${reason}${detail ? ` (${detail})` : ''}. ` +
        "Fix the record or run with badInput: 'skip' to count and skip such records.", { location, reason });
    }
    let report = this.reports.get(reason);
    if (!report) {
      report = { count: 0, locations: [], truncated: false };
      this.reports.set(reason, report);
    }
    report.count += 1;
    if (report.locations.length < MAX_SKIP_LOCATIONS) report.locations.push(location);
    else report.truncated = true;
  }

  get total(): number {
    let sum = 0;
    for (const report of this.reports.values()) sum += report.count;
    return sum;
  }

  /** Reports keyed by reason, in a fixed (alphabetical) order so manifests are byte-stable. */
  toJSON(): Record<string, SkipReport> {
    const keys = [...this.reports.keys()].sort();
    return Object.fromEntries(keys.map((k) => [k, { ...this.reports.get(k)!, locations: [...this.reports.get(k)!.locations] }]));
  }
}

/** A decoder's BAD_INPUT error for corrupt compressed data (details.reason is a corruption reason). */
export function isCorruption(error: unknown): error is TsaeError & { details: { reason: CorruptionReason; byteOffset: number } } {
  return (
    error instanceof TsaeError &&
    error.code === 'BAD_INPUT' &&
    (CORRUPTION_REASONS as readonly unknown[]).includes(error.details.reason) &&
    typeof error.details.byteOffset === 'number'
  );
}
