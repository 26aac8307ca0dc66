/**
 * Every data directory gets an identity, created once (`<data>/store.json`). A run records the
 * identity of the store it started on; an activity on a worker whose data directory is another
 * store refuses the work at once, naming both directories, instead of writing half of a run's
 * artifacts where the other half will never find them.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic-fs.js';
import { TsaeError } from '../core/errors.js';

export interface StoreIdentity {
  id: string;
  /** Where the store was created (informational: a shared mount may appear at other paths). */
  createdAt: string;
  path: string;
}

const FILE = 'store.json';
const cache = new Map<string, Promise<StoreIdentity>>();

/** The identity of the store at `dataDir`, created on first use. */
export function storeIdentity(dataDir: string): Promise<StoreIdentity> {
  let identity = cache.get(dataDir);
  if (!identity) {
    identity = readOrCreate(dataDir);
    cache.set(dataDir, identity);
    identity.catch(() => cache.delete(dataDir));
  }
  return identity;
}

async function readOrCreate(dataDir: string): Promise<StoreIdentity> {
  const path = join(dataDir, FILE);
  const existing = await readFile(path, 'utf8').then((t) => JSON.parse(t) as StoreIdentity).catch(() => null);
  if (existing?.id) return existing;
  const created: StoreIdentity = { id: randomUUID(), createdAt: new Date().toISOString(), path: dataDir };
  await writeJsonAtomic(path, created);
  // Two processes may have raced: whichever file landed last wins, and both read it back.
  return JSON.parse(await readFile(path, 'utf8')) as StoreIdentity;
}

/** Throws WRONG_DATA_STORE (retryable: another worker may hold the right store) on a mismatch. */
export async function checkSameStore(dataDir: string, expected: { storeId: string; dataDir: string }): Promise<void> {
  const mine = await storeIdentity(dataDir);
  if (mine.id === expected.storeId) return;
  throw new TsaeError(
    'WRONG_DATA_STORE',
    `this worker's data directory ${dataDir} (store ${mine.id}) is not the run's data directory ${expected.dataDir} (store ${expected.storeId}); ` +
      'workers of one run must share its data directory (start them with the same --data-dir / TSAE_DATA_DIR, on shared storage)',
    { details: { workerDataDir: dataDir, runDataDir: expected.dataDir } },
  );
}
