import { createHash } from 'node:crypto';

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
