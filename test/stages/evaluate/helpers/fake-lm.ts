import type { EvalTokenizer, Splicer } from '../../../../stages/evaluate/interfaces.js';
import { createRng } from '../../../../stages/evaluate/random.js';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;

/**
 * A word-piece tokenizer over a fixed vocabulary: pieces are a word with its leading space,
 * a newline or one punctuation character; unknown pieces map to one UNK id. BOS is prepended.
 */
export function createWordTokenizer(words: readonly string[]): EvalTokenizer {
  const vocab = ['<pad>', '<bos>', '<eos>', '<unk>', '\n', ':', ' has', ' the', ' first', ' letter', ...words];
  const index = new Map(vocab.map((t, i) => [t, i]));
  return {
    encode(text) {
      const pieces = text.match(/ ?[A-Za-z]+|\n|[^\sA-Za-z]/g) ?? [];
      return [BOS, ...pieces.map((p) => index.get(p) ?? 3)];
    },
    decode: (ids) => ids.map((i) => vocab[i] ?? '<unk>').join(''),
    vocab: () => vocab,
    specialIds: [PAD, BOS, EOS],
    padId: PAD,
  };
}

/**
 * A causal stand-in for the model up to the hook: residual_t = E[id_t] + 0.3 mean_{s<=t} E[id_s].
 * Counts calls so tests can see whether work was redone.
 */
export function createHashSplicer(d: number, vocabSize: number, seed = 9): Splicer & { residualCalls: number } {
  const rng = createRng(seed);
  const E = Float32Array.from({ length: vocabSize * d }, () => rng.normal());
  const splicer = {
    residualCalls: 0,
    async residuals(inputIds: Int32Array, batch: number, seqLen: number) {
      splicer.residualCalls++;
      const out = new Float32Array(batch * seqLen * d);
      for (let b = 0; b < batch; b++) {
        const running = new Float64Array(d);
        for (let t = 0; t < seqLen; t++) {
          const id = inputIds[b * seqLen + t];
          for (let j = 0; j < d; j++) {
            running[j] += E[id * d + j];
            out[(b * seqLen + t) * d + j] = E[id * d + j] + (0.3 * running[j]) / (t + 1);
          }
        }
      }
      return out;
    },
    async spliceLosses(): Promise<never> {
      throw new Error('the hash splicer has no suffix');
    },
  };
  return splicer;
}
