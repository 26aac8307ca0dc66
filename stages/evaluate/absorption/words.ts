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

/** Words available and drawn per first letter by a stratified split. */
export interface LetterCounts {
  available: number;
  train: number;
  test: number;
}

/**
 * A split stratified by first letter (issue 13): SAEBench samples words uniformly, so on a
 * vocabulary sample rare letters (q, x, z) get 0-3 test words and their probe F1 is noise.
 * Here every letter gets `perLetter.train` train and `perLetter.test` test words, drawn
 * without replacement after a seeded shuffle of that letter's words; a letter with fewer
 * words than train + test keeps the same train : test ratio. Letters are drawn a..z, then
 * each split is shuffled so prompts mix letters.
 */
export function stratifiedSplit(
  words: readonly string[],
  perLetter: { train: number; test: number },
  rng: Rng,
): { train: string[]; test: string[]; counts: LetterCounts[] } {
  const byLetter: string[][] = Array.from({ length: LETTERS.length }, () => []);
  for (const w of words) byLetter[firstLetterIndex(w)].push(w);
  const train: string[] = [];
  const test: string[] = [];
  const counts: LetterCounts[] = [];
  for (const pool of byLetter) {
    const order = shuffled(pool, rng);
    const wanted = perLetter.train + perLetter.test;
    const nTest = order.length >= wanted ? perLetter.test : Math.round((order.length * perLetter.test) / Math.max(wanted, 1));
    const nTrain = Math.min(perLetter.train, order.length - nTest);
    test.push(...order.slice(0, nTest));
    train.push(...order.slice(nTest, nTest + nTrain));
    counts.push({ available: order.length, train: nTrain, test: nTest });
  }
  return { train: shuffled(train, rng), test: shuffled(test, rng), counts };
}
