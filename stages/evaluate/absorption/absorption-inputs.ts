import type { StageContext } from '../../../lib/core/context.js';
import type { EvalTokenizer, Splicer } from '../interfaces.js';
import { createRng, sampleWithoutReplacement, type Rng } from '../random.js';
import type { AbsorptionInputs } from './absorption-core.js';
import { promptResiduals } from './word-activations.js';
import { alphaWords, createIclPrompt, firstLetterIndex, splitWords, stratifiedSplit } from './words.js';

/** What building the word residuals needs from the absorption config. */
export interface WordSetup {
  seed: number;
  template: string;
  tokenPosition: number;
  maxIclExamples: number;
  trainFraction: number;
  vocabLimit: number | null;
  batchSize: number;
  /** Words per first letter (stratifiedSplit); null: SAEBench's uniform sample and 80/20 split. */
  perLetter: { train: number; test: number } | null;
}

export interface WordInputs extends AbsorptionInputs {
  trainWords: string[];
  testWords: string[];
}

/** The words of the task: a stratified split by first letter, or SAEBench's sample + 80/20 split. */
export function chooseWords(vocab: readonly string[], setup: WordSetup, rng: Rng): { all: string[]; train: string[]; test: string[] } {
  const all = alphaWords(vocab);
  if (setup.perLetter) {
    const { train, test } = stratifiedSplit(all, setup.perLetter, rng);
    return { all, train, test };
  }
  const words = setup.vocabLimit !== null && all.length > setup.vocabLimit ? sampleWithoutReplacement(all, setup.vocabLimit, rng) : all;
  return { all: words, ...splitWords(words, setup.trainFraction, rng) };
}

/**
 * The model-level half of the absorption eval, shared by every SAE of a run: words from the
 * tokenizer's vocabulary (stratified by first letter, or sampled and split 80/20), one in-context prompt each
 * (examples from the word's own split, as SAEBench trains its probes), and for the test words a
 * second, fresh prompt with examples from the whole vocabulary (as SAEBench's absorption
 * calculator re-prompts them). Residuals are read at `tokenPosition`.
 */
export async function buildWordInputs(
  deps: { tokenizer: EvalTokenizer; splicer: Splicer; dIn: number },
  setup: WordSetup,
  ctx: StageContext,
): Promise<WordInputs> {
  const rng = createRng(setup.seed);
  const { all: words, train, test } = chooseWords(deps.tokenizer.vocab(), setup, rng);
  const prompt = { template: setup.template, maxIclExamples: setup.maxIclExamples };
  const read = (prompts: string[], label: string) =>
    promptResiduals(prompts, deps, { tokenPosition: setup.tokenPosition, batchSize: setup.batchSize, label }, ctx);
  const trainActs = await read(train.map((w) => createIclPrompt(w, train, prompt, rng)), 'absorption train prompts');
  const testActs = await read(test.map((w) => createIclPrompt(w, test, prompt, rng)), 'absorption test prompts');
  const absorptionActs = await read(test.map((w) => createIclPrompt(w, words, prompt, rng)), 'absorption re-prompts');
  return {
    dIn: deps.dIn,
    train: { acts: trainActs, letters: Int32Array.from(train, firstLetterIndex) },
    test: { acts: testActs, letters: Int32Array.from(test, firstLetterIndex), words: test },
    absorptionActs,
    trainWords: train,
    testWords: test,
  };
}
