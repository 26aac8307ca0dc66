import { hostname } from 'node:os';
import { mkdir, open, readFile, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ArtifactManifest, type ArtifactRef } from '../../schemas/manifest.js';
import { canonicalJson, sha256File, sha256Hex, writeJsonAtomic } from '../core/atomic-fs.js';
import { TsaeError, wrapFsError } from '../core/errors.js';
import { resolveInside } from './safe-path.js';

export interface ArtifactRequest {
  stage: string;
  codeVersion: string;
  /** The stage config; part of the key, so any change produces a new artifact. */
  config: unknown;
  /** Keys of the artifacts this one is computed from. */
  inputs: string[];
}

export interface ProduceResult<S> {
  ref: ArtifactRef;
  manifest: ArtifactManifest & { summary: S };
  /** True when the artifact already existed and no work was done. */
  cacheHit: boolean;
}

export interface WorkContext {
  /** Stable folder for this key: checkpoints left by an interrupted attempt are still here. */
  workDir: string;
  /** True when the work folder held files from an earlier attempt. */
  resuming: boolean;
}

export interface ProduceOptions {
  /** While another live process produces the same artifact, wait for it (polling) instead of failing BUSY. */
  waitForLock?: boolean;
  /** Stops waiting (and the caller's work) when aborted. */
  signal?: AbortSignal;
}

const LOCK_POLL_MS = 500;

/** A lock older than this without a refresh is considered abandoned (its holder died). */
export const LOCK_STALE_MS = 60_000;
const LOCK_REFRESH_MS = 10_000;
const MANIFEST = 'manifest.json';

/**
 * Content-addressed artifact folders under `<dataDir>/artifacts/<stage>/<key>/`.
 *
 * - key = sha256(stage, code version, canonical config, input keys): same inputs, same key.
 * - Work happens in `<key>.work/` under an exclusive lock file `<key>.lock`; a retried attempt
 *   finds its checkpoints there. On success the manifest (files, sizes, sha256) is written
 *   last and atomically, then the folder is renamed to `<key>/`: a folder with a manifest is
 *   complete, anything else is work in progress.
 */
export class ArtifactStore {
  constructor(readonly dataDir: string) {}

  keyFor(request: ArtifactRequest): string {
    const material = canonicalJson([request.stage, request.codeVersion, request.config, [...request.inputs]]);
    return sha256Hex(material).slice(0, 32);
  }

  refFor(stage: string, key: string): ArtifactRef {
    return { stage, key, path: ['artifacts', stage, key].join('/') };
  }

  /** Absolute folder of an artifact reference, checked to stay inside the data directory. */
  pathOf(ref: Pick<ArtifactRef, 'path'>): string {
    return resolveInside(this.dataDir, ref.path);
  }

  /** The manifest of a complete artifact, or null. Throws if a manifest exists but files do not match it. */
  async find(stage: string, key: string, verify: 'size' | 'sha256' = 'size'): Promise<ArtifactManifest | null> {
    const dir = this.pathOf(this.refFor(stage, key));
    let text: string;
    try {
      text = await readFile(join(dir, MANIFEST), 'utf8');
    } catch {
      return null;
    }
    const manifest = parseManifest(text, join(dir, MANIFEST));
    await verifyFiles(dir, manifest, verify);
    return manifest;
  }

  /**
   * Returns the artifact for `request`, producing it with `work` if it does not exist yet.
   * `work` writes files into `workDir` and returns the stage summary.
   */
  async produce<S>(request: ArtifactRequest, work: (ctx: WorkContext) => Promise<S>, options: ProduceOptions = {}): Promise<ProduceResult<S>> {
    const key = this.keyFor(request);
    const ref = this.refFor(request.stage, key);
    const existing = await this.find(request.stage, key);
    if (existing) return { ref, manifest: existing as ArtifactManifest & { summary: S }, cacheHit: true };

    const finalDir = this.pathOf(ref);
    const workDir = finalDir + '.work';
    const lock = await acquireLockWaiting(finalDir + '.lock', options);
    try {
      // Another process may have finished while we waited for the lock.
      const raced = await this.find(request.stage, key);
      if (raced) return { ref, manifest: raced as ArtifactManifest & { summary: S }, cacheHit: true };
      const resuming = (await listFiles(workDir)).length > 0;
      await mkdir(workDir, { recursive: true });
      const started = Date.now();
      const summary = await work({ workDir, resuming });
      const manifest: ArtifactManifest = {
        schemaVersion: 1,
        stage: request.stage,
        key,
        codeVersion: request.codeVersion,
        config: request.config,
        inputs: request.inputs,
        createdAt: new Date().toISOString(),
        durationMs: Date.now() - started,
        files: await describeFiles(workDir),
        summary,
      };
      await writeJsonAtomic(join(workDir, MANIFEST), manifest);
      await rename(workDir, finalDir).catch((error) => {
        throw wrapFsError(error, finalDir);
      });
      return { ref, manifest: manifest as ArtifactManifest & { summary: S }, cacheHit: false };
    } finally {
      await lock.release();
    }
  }
}

function parseManifest(text: string, path: string): ArtifactManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TsaeError('CORRUPT_ARTIFACT', `${path}: manifest is not valid JSON (${(error as Error).message})`, { retryable: false });
  }
  const parsed = ArtifactManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TsaeError('CORRUPT_ARTIFACT', `${path}: field '${issue.path.join('.')}' ${issue.message}`, { retryable: false });
  }
  return parsed.data;
}

async function verifyFiles(dir: string, manifest: ArtifactManifest, verify: 'size' | 'sha256'): Promise<void> {
  for (const file of manifest.files) {
    const path = join(dir, file.path);
    const info = await stat(path).catch(() => null);
    if (!info || info.size !== file.bytes) {
      throw new TsaeError('CORRUPT_ARTIFACT', `${path}: expected ${file.bytes} bytes per manifest, found ${info ? info.size : 'no file'}`, {
        retryable: false,
        details: { path },
      });
    }
    if (verify === 'sha256' && (await sha256File(path)) !== file.sha256) {
      throw new TsaeError('CORRUPT_ARTIFACT', `${path}: sha256 does not match the manifest`, { retryable: false, details: { path } });
    }
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name !== MANIFEST && !entry.name.endsWith('.tmp')) out.push(full);
    }
  };
  await walk(dir);
  return out.sort();
}

async function describeFiles(dir: string) {
  const files = [];
  for (const path of await listFiles(dir)) {
    const info = await stat(path);
    files.push({ path: relative(dir, path).split(sep).join('/'), bytes: info.size, sha256: await sha256File(path) });
  }
  return files;
}

/**
 * Takes the lock; with `waitForLock`, waits while another live producer holds it (two runs of
 * the same spec at once: the second waits, then finds the finished artifact).
 */
async function acquireLockWaiting(path: string, options: ProduceOptions): Promise<HeldLock> {
  for (;;) {
    try {
      return await acquireLock(path);
    } catch (error) {
      if (!options.waitForLock || !(error instanceof TsaeError) || error.code !== 'BUSY') throw error;
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}

interface HeldLock {
  release(): Promise<void>;
}

/** Exclusive lock file holding its owner; refreshed while held so a dead owner's lock goes stale. */
async function acquireLock(path: string): Promise<HeldLock> {
  await mkdir(join(path, '..'), { recursive: true });
  const owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(owner));
      await handle.close();
      const timer = setInterval(() => void utimes(path, new Date(), new Date()).catch(() => {}), LOCK_REFRESH_MS);
      timer.unref();
      return {
        async release() {
          clearInterval(timer);
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapFsError(error, path);
      if (attempt === 0 && (await lockIsAbandoned(path))) {
        await rm(path, { force: true });
        continue;
      }
      const holder = await readFile(path, 'utf8').catch(() => '?');
      throw new TsaeError('BUSY', `Artifact is being produced by another process (lock ${path}, held by ${holder}); will retry`, {
        details: { lock: path },
      });
    }
  }
  throw new TsaeError('BUSY', `Could not take lock ${path}`);
}

async function lockIsAbandoned(path: string): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    const owner = JSON.parse(text) as { pid: number; host: string };
    if (owner.host === hostname() && !processAlive(owner.pid)) return true;
    return Date.now() - info.mtimeMs > LOCK_STALE_MS;
  } catch {
    return true; // unreadable or torn lock file: its writer died mid-write
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
