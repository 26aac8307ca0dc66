import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from './atomic-fs.js';

/**
 * A small in-process memo for pure, model-level computations that every SAE's eval repeats (the
 * absorption ground-truth probes, the residual probes of sparse probing). A worker runs the evals
 * of several SAEs one after another; the first computes, the others reuse. Keys are content
 * hashes of every input, so a hit cannot change a result. Bounded: the oldest entry goes first.
 */
export class ContentMemo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity: number) {}

  getOrCompute(key: string, compute: () => T): T {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}

/** sha256 over typed arrays and JSON-able values, each length-prefixed so boundaries count. */
export function contentKey(...parts: (ArrayBufferView | string | number | boolean | readonly number[])[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = ArrayBuffer.isView(part)
      ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength)
      : Buffer.from(JSON.stringify(part));
    hash.update(`${ArrayBuffer.isView(part) ? part.constructor.name : typeof part}:${bytes.byteLength}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/**
 * The disk form of ContentMemo, for model-level results that several processes (one stage
 * process per SAE eval) would each recompute: `<dir>/<key>.json`, written atomically, read back
 * through `decode`. Keys are content hashes of every input, so a file can only hold the result
 * for exactly those inputs; an unreadable file is recomputed and overwritten.
 */
export async function diskMemo<T>(dir: string | undefined, key: string, compute: () => T, codec: { encode: (value: T) => unknown; decode: (json: unknown) => T }): Promise<T> {
  if (!dir) return compute();
  const path = join(dir, `${key}.json`);
  try {
    return codec.decode(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    const value = compute();
    await mkdir(dir, { recursive: true });
    await writeJsonAtomic(path, codec.encode(value));
    return value;
  }
}
