/** The model's tokenizer as the evals use it (prompts, vocabulary pieces), loaded once per stage process. */
import { loadTokenizer } from '../tokenize/load-tokenizer.js';
import type { EvalTokenizer } from './interfaces.js';
import { readVocabPieces, toEvalTokenizer } from './tokenizer-adapter.js';

const tokenizers = new Map<string, Promise<EvalTokenizer>>();

export function evalTokenizer(modelDir: string): Promise<EvalTokenizer> {
  let tokenizer = tokenizers.get(modelDir);
  if (!tokenizer) {
    tokenizer = (async () => {
      const [loaded, vocab] = await Promise.all([loadTokenizer({ kind: 'folder', path: modelDir }), readVocabPieces(modelDir)]);
      return toEvalTokenizer(loaded, vocab.pieces, vocab.padId);
    })();
    tokenizers.set(modelDir, tokenizer);
    tokenizer.catch(() => tokenizers.delete(modelDir));
  }
  return tokenizer;
}
