import { join } from 'node:path';
import { resolveInside } from '../../lib/artifacts/safe-path.js';

/** `<data>/runs/<workflowId>/`, checked to stay inside the data directory. */
export function runDirOf(dataDir: string, runId: string): string {
  return resolveInside(dataDir, join('runs', runId));
}
