import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex, writeFileAtomic } from '../../lib/core/atomic-fs.js';
import type { Splicer } from './splice.js';

/** Residual batches being computed in this process, by cache file path. */
const inFlight = new Map<string, Promise<Float32Array>>();

/**
 * A Splicer whose `residuals()` are memoised on disk, keyed by the exact token ids. The evals
 * of every SAE variant run the same probing and absorption prompts through the same model; the
 * first variant computes the residuals, the others read them (a pure function of model, layer
 * and ids, so sharing cannot change a result). Values are stored as float32, bit-exact.
 * Two evals in one worker process that ask for the same batch at once (a worker runs several
 * activities) share one computation instead of both running the model.
 */
export function withResidualCache(inner: Splicer, cacheDir: string): Splicer {
  return {
    dModel: inner.dModel,
    vocabSize: inner.vocabSize,
    spliceLosses: (args) => inner.spliceLosses(args),
    dispose: () => inner.dispose(),
    async residuals(inputIds, batch, seqLen, attentionMask) {
      const ids = Int32Array.from(inputIds as ArrayLike<number>);
      const mask = attentionMask ? Uint8Array.from(attentionMask as ArrayLike<number>) : new Uint8Array(0);
      const key = sha256Hex(Buffer.concat([Buffer.from(`${batch}x${seqLen}:`), Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength), Buffer.from(mask)]));
      const path = join(cacheDir, key.slice(0, 2), `${key}.f32`);
      const expectedBytes = batch * seqLen * inner.dModel * 4;
      const cached = await readFile(path).catch(() => null);
      if (cached && cached.byteLength === expectedBytes) {
        return new Float32Array(cached.buffer, cached.byteOffset, cached.byteLength / 4);
      }
      const running = inFlight.get(path);
      // A copy: each caller owns the array it gets.
      if (running) return (await running).slice();
      const computing = (async () => {
        const values = await inner.residuals(ids, batch, seqLen, attentionMask);
        await writeFileAtomic(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).catch(() => undefined);
        return values;
      })();
      inFlight.set(path, computing);
      try {
        return (await computing).slice();
      } finally {
        inFlight.delete(path);
      }
    },
  };
}
