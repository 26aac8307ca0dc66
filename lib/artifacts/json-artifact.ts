/**
 * Content-addressed JSON documents (run specs, corpus and extraction plans, artifact sets): the
 * artifact key is the hash of the value itself, so workflows pass a small reference and any
 * worker reads the same bytes back. Reads are cached per process (the content cannot change).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../../schemas/manifest.js';
import { canonicalJson, sha256Hex, writeJsonAtomic } from '../core/atomic-fs.js';
import { TsaeError } from '../core/errors.js';
import type { ArtifactStore } from './store.js';

const FILE = 'value.json';
const CACHE_LIMIT = 64;
const cache = new Map<string, Promise<unknown>>();

/**
 * Stores `value` under `<data>/artifacts/<stage>/<key>/value.json` (idempotent). The key is the
 * hash of `address`: the value itself by default, or what identifies it when parts of the value
 * are incidental (a set's item summaries).
 */
export async function storeJsonArtifact(store: ArtifactStore, stage: string, value: unknown, summary: unknown = null, address: unknown = value): Promise<ArtifactRef> {
  const result = await store.produce(
    // The document is its own key: no code runs to make it, so no code version applies.
    { stage, codeVersion: 'content', config: { sha256: sha256Hex(canonicalJson(address)) }, inputs: [] },
    async ({ workDir }) => {
      await writeJsonAtomic(join(workDir, FILE), value);
      return summary;
    },
    { waitForLock: true },
  );
  return result.ref;
}

/** Reads a document stored by `storeJsonArtifact`. */
export function readJsonArtifact<T>(store: ArtifactStore, ref: Pick<ArtifactRef, 'path' | 'key'>): Promise<T> {
  const id = `${store.dataDir}\n${ref.path}`;
  let value = cache.get(id);
  if (!value) {
    const path = join(store.pathOf(ref), FILE);
    value = readFile(path, 'utf8').then(
      (text) => JSON.parse(text) as unknown,
      (error) => {
        throw new TsaeError('NOT_FOUND', `${path} is missing from this worker's data directory ${store.dataDir} (${(error as Error).message})`);
      },
    );
    cache.set(id, value);
    value.catch(() => cache.delete(id));
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  }
  return value as Promise<T>;
}
