import { throwIfAborted, type StageContext } from '../../../lib/core/context.js';
import { badInput } from '../../../lib/core/errors.js';
import type { EvalTokenizer, Splicer } from '../interfaces.js';

/**
 * Residuals of prompts at one token position counted from the end (SAEBench's
 * prompt_token_pos: -6 is the word's last token in "{word} has the first letter:" for Gemma).
 * Prompts are right-padded per batch; the model is causal, so padding never reaches them.
 * @returns [prompts.length, dIn]
 */
export async function promptResiduals(
  prompts: readonly string[],
  deps: { tokenizer: EvalTokenizer; splicer: Splicer; dIn: number },
  options: { tokenPosition: number; batchSize: number; label: string },
  ctx: StageContext,
): Promise<Float32Array> {
  const { tokenizer, splicer, dIn } = deps;
  if (options.tokenPosition >= 0) throw badInput(`prompt_token_pos must be negative (from the end), got ${options.tokenPosition}`);
  const out = new Float32Array(prompts.length * dIn);
  for (let start = 0; start < prompts.length; start += options.batchSize) {
    throwIfAborted(ctx.signal);
    const ids = prompts.slice(start, start + options.batchSize).map((p) => tokenizer.encode(p));
    const seqLen = Math.max(...ids.map((x) => x.length));
    const inputIds = new Int32Array(ids.length * seqLen).fill(tokenizer.padId);
    ids.forEach((row, b) => inputIds.set(row, b * seqLen));
    const resid = await splicer.residuals(inputIds, ids.length, seqLen);
    ids.forEach((row, b) => {
      const t = row.length + options.tokenPosition;
      if (t < 0) throw badInput(`prompt ${start + b} has ${row.length} tokens, fewer than |prompt_token_pos| = ${-options.tokenPosition}`);
      out.set(resid.subarray((b * seqLen + t) * dIn, (b * seqLen + t + 1) * dIn), (start + b) * dIn);
    });
    ctx.onProgress({ stage: 'evaluate', item: options.label, done: start + ids.length, total: prompts.length, unit: 'prompts' });
  }
  return out;
}
