import { sampleWithoutReplacement, shuffled, type Rng } from '../random.js';

/**
 * Words and prompts of the first-letter task (Chanin et al. 2024, as SAEBench builds them).
 */
export const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * Vocabulary entries that are a word of ASCII letters, optionally after one leading space
 * (SAEBench `get_alpha_tokens`): " cat" and "cat" are distinct words. Duplicates are dropped.
 */
export function alphaWords(vocab: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const token of vocab) {
    const body = token.startsWith(' ') ? token.slice(1) : token;
    if (body.length === 0 || !/^[A-Za-z]+$/.test(body) || seen.has(token)) continue;
    seen.add(token);
    out.push(token);
  }
  return out;
}

/** Index 0..25 of the word's first letter, ignoring leading spaces and case. */
export function firstLetterIndex(word: string): number {
  const match = /[A-Za-z]/.exec(word);
  if (!match) throw new RangeError(`word "${word}" has no letter`);
  return LETTERS.indexOf(match[0].toLowerCase());
}

/** SAEBench `first_letter` formatter: " C" for "cat". */
export function firstLetterAnswer(word: string): string {
  return ' ' + LETTERS[firstLetterIndex(word)].toUpperCase();
}

export interface PromptOptions {
  /** Contains "{word}", e.g. "{word} has the first letter:". */
  template: string;
  maxIclExamples: number;
}

/**
 * An in-context prompt: `maxIclExamples` other words with their answers, one a line, then the
 * word's own template (SAEBench `create_icl_prompt` with "\n" separators, a separator before
 * the first example, shuffled examples and the contamination check).
 */
export function createIclPrompt(word: string, examples: readonly string[], options: PromptOptions, rng: Rng): string {
  const pool = examples.filter((e) => e !== word);
  const icl = sampleWithoutReplacement(pool, options.maxIclExamples, rng);
  const lines = icl.map((e) => options.template.replace('{word}', e) + firstLetterAnswer(e));
  return '\n' + [...lines, options.template.replace('{word}', word)].join('\n');
}

/** Shuffles the words and cuts them into train (first `trainFraction`) and test. */
export function splitWords(words: readonly string[], trainFraction: number, rng: Rng): { train: string[]; test: string[] } {
  const order = shuffled(words, rng);
  const cut = Math.floor(order.length * trainFraction);
  return { train: order.slice(0, cut), test: order.slice(cut) };
}
