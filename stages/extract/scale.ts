/**
 * Unit-mean-squared-norm scaling: one factor s with mean_t ||s x_t||^2 = target over a sample of
 * rows, special tokens excluded (BOS carries outsized norms in Gemma models and would dominate).
 */
import type { TokenRow } from '../../schemas/token-shard.js';
import { badInput } from '../../lib/core/errors.js';
import { halfToFloat } from '../../lib/core/half.js';
import type { PrefixRunner } from '../model/prefix-runner.js';

/** s = sqrt(target / mean ||x||^2) over the non-special tokens of `rows`. */
export async function estimateScale(runner: PrefixRunner, rows: TokenRow[], batchSize: number, target: number): Promise<number> {
  let sum = 0;
  let n = 0;
  const d = runner.dModel;
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const seqLen = Math.max(...batch.map((r) => r.inputIds.length));
    const ids = new Int32Array(batch.length * seqLen);
    const mask = new Uint8Array(batch.length * seqLen);
    batch.forEach((r, b) => {
      ids.set(r.inputIds, b * seqLen);
      mask.fill(1, b * seqLen, b * seqLen + r.inputIds.length);
    });
    const out = await runner.run(ids, batch.length, seqLen, mask, 1);
    const read = out instanceof Uint16Array ? (i: number) => halfToFloat(out[i]) : (i: number) => out[i];
    batch.forEach((r, b) => {
      for (let p = 0; p < r.inputIds.length; p++) {
        if (r.specialMask[p]) continue;
        let sq = 0;
        const base = (b * seqLen + p) * d;
        for (let k = 0; k < d; k++) sq += read(base + k) ** 2;
        if (Number.isFinite(sq)) {
          sum += sq;
          n++;
        }
      }
    });
  }
  if (n === 0 || sum === 0) throw badInput('cannot estimate the activation scale: the sample has no non-special tokens');
  return Math.sqrt(target / (sum / n));
}
