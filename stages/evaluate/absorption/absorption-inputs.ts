import type { StageContext } from '../../../lib/core/context.js';
import type { EvalTokenizer, Splicer } from '../interfaces.js';
import { createRng, sampleWithoutReplacement } from '../random.js';
import type { AbsorptionInputs } from './absorption-core.js';
import { promptResiduals } from './word-activations.js';
import { alphaWords, createIclPrompt, firstLetterIndex, splitWords } from './words.js';

/** What building the word residuals needs from the absorption config. */
export interface WordSetup {
  seed: number;
  template: string;
  tokenPosition: number;
  maxIclExamples: number;
  trainFraction: number;
  vocabLimit: number | null;
  batchSize: number;
}

export interface WordInputs extends AbsorptionInputs {
  trainWords: string[];
  testWords: string[];
}

/**
 * The model-level half of the absorption eval, shared by every SAE of a run: words from the
 * tokenizer's vocabulary (optionally sampled down), split 80/20, one in-context prompt each
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
  let words = alphaWords(deps.tokenizer.vocab());
  if (setup.vocabLimit !== null && words.length > setup.vocabLimit) words = sampleWithoutReplacement(words, setup.vocabLimit, rng);
  const { train, test } = splitWords(words, setup.trainFraction, rng);
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
