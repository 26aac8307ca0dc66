/**
 * The files of a shard folder besides the token files: the finished manifest and the resume
 * checkpoint, and how an attempt decides what of an earlier attempt it may reuse.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizeShardSummary } from '../../schemas/corpus.js';
import { fileExists, sha256File } from '../../lib/core/atomic-fs.js';
import type { StageContext } from '../../lib/core/context.js';
import type { ShardCheckpoint } from './shard-state.js';

export const SHARD_MANIFEST_FILE = 'shard-manifest.json';
export const CHECKPOINT_FILE = 'checkpoint.json';
/** Manifest and checkpoint format; files of another version are recomputed, never read. */
export const SHARD_FORMAT_VERSION = 2;

export function tokenFileName(index: number): string {
  return `tokens-${String(index).padStart(5, '0')}.parquet`;
}

/** The manifest of a finished shard with these inputs whose token files are all there, or null. */
export async function readFinishedManifest(outDir: string, inputDigest: string): Promise<TokenizeShardSummary | null> {
  const path = join(outDir, SHARD_MANIFEST_FILE);
  if (!(await fileExists(path))) return null;
  const manifest = JSON.parse(await readFile(path, 'utf8')) as TokenizeShardSummary;
  if (manifest.schemaVersion !== SHARD_FORMAT_VERSION || manifest.inputDigest !== inputDigest) return null;
  for (const file of manifest.files) {
    if (!(await fileExists(join(outDir, file.path)))) return null;
  }
  return manifest;
}

/** A checkpoint for the same inputs whose files are intact, or null (and stale outputs removed). */
export async function loadCheckpoint(outDir: string, inputDigest: string, ctx: StageContext): Promise<ShardCheckpoint | null> {
  const path = join(outDir, CHECKPOINT_FILE);
  if (await fileExists(path)) {
    const checkpoint = JSON.parse(await readFile(path, 'utf8')) as ShardCheckpoint;
    let intact = checkpoint.schemaVersion === SHARD_FORMAT_VERSION && checkpoint.inputDigest === inputDigest;
    for (const file of intact ? checkpoint.files : []) {
      const target = join(outDir, file.path);
      if (!(await fileExists(target)) || (await sha256File(target)) !== file.sha256) intact = false;
    }
    if (intact) {
      ctx.log.info('resuming shard from checkpoint', { files: checkpoint.files.length, lastLine: checkpoint.lastLine });
      return checkpoint;
    }
  }
  // Start over: nothing from an attempt with other inputs may end up in this shard.
  for (const name of await readdir(outDir).catch(() => [] as string[])) {
    if (/^tokens-\d+\.parquet$/.test(name) || name === CHECKPOINT_FILE || name === SHARD_MANIFEST_FILE) await rm(join(outDir, name), { force: true });
  }
  return null;
}
