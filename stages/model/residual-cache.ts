import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex, writeFileAtomic } from '../core/atomic-fs.js';
import type { Splicer } from './splice.js';

/**
 * A Splicer whose `residuals()` are memoised on disk, keyed by the exact token ids. The evals
 * of every SAE variant run the same probing and absorption prompts through the same model; the
 * first variant computes the residuals, the others read them (a pure function of model, layer
 * and ids, so sharing cannot change a result). Values are stored as float32, bit-exact.
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
      const values = await inner.residuals(ids, batch, seqLen, attentionMask);
      await writeFileAtomic(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).catch(() => undefined);
      return values;
    },
  };
}
