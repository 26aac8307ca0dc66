/**
 * Does tokenize.tokenizer fit model.source? Two questions, both about ids (issue 15 §5):
 *  - range: every id ordinary text maps to must have an embedding row. A tokenizer with more ids
 *    than the model (the Gemma-2 tokenizer, 256,000, with SmolLM2's 49,152) used to pass
 *    validation, tokenize, and then fail inside the model's embedding Gather during extraction,
 *    where it was retried like an infrastructure fault.
 *  - identity: ids that fit but come from another tokenizer (Gemma 2's with a Gemma 3 model)
 *    name other tokens to the model; that needs tokenize.allowForeignTokenizer.
 * checkTokenizerFitsModel is the pure rule. checkSpecTokenizer applies it at validation with what
 * is known then (registry facts, local folders); checkTokenizerForModel applies it once a model
 * folder is prepared (GGUF files and hub ids are only known then).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTRY_MODEL_FACTS, type RegistryModel } from '../../schemas/model.js';
import type { RunSpec } from '../../schemas/run-spec.js';
import { TsaeError } from '../core/errors.js';
import { SpecError } from './load-spec.js';
import { npmTokenizerFolder, readTokenizerFacts, readTokenizerFactsSync, type TokenizerFacts } from './tokenizer-facts.js';

const FIELDS = ['tokenize.tokenizer', 'model.source'];

export interface TokenizerFitInput {
  /** tokenize.tokenizer as in the spec: 'model', 'gemma2', 'gemma3' or a folder. */
  tokenizer: string;
  tokenizerFacts: TokenizerFacts;
  /** model.source as in the spec. */
  modelSource: string;
  /** Embedding rows of the model. */
  modelVocabSize: number;
  /** The model's own tokenizer.json; null when not known yet (the identity check is then left for later). */
  ownTokenizer: TokenizerFacts | null;
  allowForeignTokenizer: boolean;
}

export interface TokenizerFit {
  /** Whether the tokenizer is the model's own; null when that could not be checked yet. */
  own: boolean | null;
  /** Added tokens the model has no row for: documents that contain them literally are skipped (token-out-of-range). */
  idsAboveModel: { id: number; content: string }[];
}

/**
 * Throws a SpecError (BAD_CONFIG, not retryable) naming tokenize.tokenizer and model.source when
 * the tokenizer's base vocabulary does not fit the model, or when it is not the model's own and
 * tokenize.allowForeignTokenizer is not set. Pure: facts in, verdict out.
 */
export function checkTokenizerFitsModel(input: TokenizerFitInput, source = 'run spec'): TokenizerFit {
  const { tokenizerFacts: facts, modelVocabSize: vocab } = input;
  const name = `'${input.tokenizer}'`;
  const model = `model.source '${input.modelSource}'`;
  if (facts.baseIdCount > vocab) {
    refuse(source, `${name} maps text to ids up to ${n(facts.baseIdCount - 1)} (a vocabulary of ${n(facts.baseIdCount)}), but ${model} has embeddings for only ${n(vocab)} ids: ` +
      `any id from ${n(vocab)} up would fail inside the model's embedding lookup during extraction. Use tokenize.tokenizer: model (the model's own tokenizer) or a tokenizer made for this model`, input);
  }
  const own = input.tokenizer === 'model' ? true : input.ownTokenizer ? sameTokenizer(facts, input.ownTokenizer) : null;
  if (own === false && !input.allowForeignTokenizer) {
    refuse(source, `${name} is not the tokenizer of ${model}: its id table differs from the model's own tokenizer.json (${input.ownTokenizer!.path}). ` +
      `Its ids fit the model's ${n(vocab)} embeddings but name other tokens to it. Use tokenize.tokenizer: model, or set tokenize.allowForeignTokenizer: true to use it anyway`, input);
  }
  return { own, idsAboveModel: facts.highAddedTokens.filter((t) => t.id >= vocab) };
}

function sameTokenizer(a: TokenizerFacts, b: TokenizerFacts): boolean {
  return a.sha256 === b.sha256 || a.vocabDigest === b.vocabDigest;
}

function refuse(source: string, message: string, input: TokenizerFitInput): never {
  const error = new SpecError(source, [{ field: 'tokenize.tokenizer', message }]);
  Object.assign(error.details, { fields: FIELDS, tokenizer: input.tokenizer, modelSource: input.modelSource, modelVocabSize: input.modelVocabSize, tokenizerVocabSize: input.tokenizerFacts.baseIdCount });
  throw error;
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}

/** The folder holding tokenizer.json for a spec's tokenize.tokenizer ('model' resolves to modelDir). */
export function tokenizerFolderOf(tokenizer: string, modelDir: string): string {
  if (tokenizer === 'model') return modelDir;
  return tokenizer === 'gemma2' || tokenizer === 'gemma3' ? npmTokenizerFolder(tokenizer) : tokenizer;
}

/**
 * Validation-time check of a spec whose paths are absolute: applies checkTokenizerFitsModel with
 * what is known before the model is prepared. Registry models and local folders give the
 * vocabulary; a GGUF file or a hub id gives nothing yet, so the check waits for
 * checkTokenizerForModel. Returns null when nothing could be checked.
 */
export function checkSpecTokenizer(spec: RunSpec, source = 'spec'): TokenizerFit | null {
  const { tokenizer, allowForeignTokenizer } = spec.tokenize;
  if (tokenizer === 'model') return null; // the model's own: its range is checked once the model is prepared
  const model = asSpecIssue(source, 'model.source', () => staticModelFacts(spec.model.source));
  if (!model) return null;
  const tokenizerFacts = asSpecIssue(source, 'tokenize.tokenizer', () => readTokenizerFactsSync(tokenizerFolderOf(tokenizer, '')));
  return checkTokenizerFitsModel({ tokenizer, tokenizerFacts, modelSource: spec.model.source, modelVocabSize: model.vocabSize, ownTokenizer: model.own, allowForeignTokenizer }, source);
}

/** A project error while reading a field's files becomes a validation problem of that field. */
function asSpecIssue<T>(source: string, field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof TsaeError)) throw error;
    throw new SpecError(source, [{ field, message: error.message }]);
  }
}

/** Vocabulary and own tokenizer of a model source known without preparing it, or null. */
function staticModelFacts(modelSource: string): { vocabSize: number; own: TokenizerFacts | null } | null {
  if (modelSource in REGISTRY_MODEL_FACTS) {
    const facts = REGISTRY_MODEL_FACTS[modelSource as RegistryModel];
    return { vocabSize: facts.vocabSize, own: facts.tokenizer ? readTokenizerFactsSync(npmTokenizerFolder(facts.tokenizer)) : null };
  }
  if (!existsSync(modelSource) || !statSync(modelSource).isDirectory()) return null;
  const vocabSize = folderVocabSize(modelSource);
  if (vocabSize === null) return null;
  return { vocabSize, own: existsSync(join(modelSource, 'tokenizer.json')) ? readTokenizerFactsSync(modelSource) : null };
}

/** Embedding rows of a model folder: tsae.json (prepared) or config.json vocab_size (a Hugging Face checkpoint). */
export function folderVocabSize(dir: string): number | null {
  for (const [file, pick] of [
    ['tsae.json', (j: Record<string, any>) => j.vocabSize],
    ['config.json', (j: Record<string, any>) => j.vocab_size ?? j.text_config?.vocab_size],
  ] as const) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    try {
      const value = pick(JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>);
      if (Number.isInteger(value) && value > 0) return value as number;
    } catch {
      // An unreadable file says nothing here; preparing or loading the model reports it properly.
    }
  }
  return null;
}

/**
 * Run-time check, once the model folder is prepared and its vocabulary known (ModelSummary.vocabSize):
 * reads the tokenizer's and the model folder's tokenizer.json (cached per process) and applies
 * checkTokenizerFitsModel. Throws a SpecError (BAD_CONFIG, not retryable) naming both fields.
 */
export async function checkTokenizerForModel(input: {
  tokenize: Pick<RunSpec['tokenize'], 'tokenizer' | 'allowForeignTokenizer'>;
  modelSource: string;
  modelDir: string;
  modelVocabSize: number;
}): Promise<TokenizerFit> {
  const { tokenizer, allowForeignTokenizer } = input.tokenize;
  const [tokenizerFacts, ownTokenizer] = await Promise.all([
    readTokenizerFacts(tokenizerFolderOf(tokenizer, input.modelDir)),
    readTokenizerFacts(input.modelDir),
  ]);
  return checkTokenizerFitsModel({ tokenizer, tokenizerFacts, modelSource: input.modelSource, modelVocabSize: input.modelVocabSize, ownTokenizer, allowForeignTokenizer });
}
