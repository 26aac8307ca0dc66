import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../../lib/core/errors.js';
import type { TextTokenizer } from '../tokenize/load-tokenizer.js';
import type { EvalTokenizer } from './interfaces.js';

/**
 * The evaluate stage's tokenizer view of the tokenize stage's TextTokenizer. `encode` adds BOS
 * when the model expects it (the evals feed whole prompts / texts to the model); `vocab()` holds
 * every vocabulary piece as text with the word-start marker turned into a space
 * (SentencePiece "▁", byte-level BPE "Ġ"), as SAEBench's convert_tokens_to_string gives them,
 * so " cat" and "cat" stay distinct words.
 */
export function toEvalTokenizer(tokenizer: TextTokenizer, pieces: Record<string, number>, padId?: number): EvalTokenizer {
  const vocab = new Array<string>(tokenizer.vocabSize).fill('');
  for (const [piece, id] of Object.entries(pieces)) if (id < vocab.length) vocab[id] = piece.replace(/[▁Ġ]/g, ' ');
  const special = [...tokenizer.specialIds];
  const pad = padId ?? tokenizer.eosId ?? special[0] ?? 0;
  return {
    encode: (text) => {
      const ids = Array.from(tokenizer.encode(text));
      return tokenizer.addBos && tokenizer.bosId !== null ? [tokenizer.bosId, ...ids] : ids;
    },
    decode: (ids) => tokenizer.decode(ids),
    vocab: () => vocab,
    specialIds: special.includes(pad) ? special : [...special, pad],
    padId: pad,
  };
}

/** `model.vocab` of a tokenizer.json (piece -> id) and the id of its "<pad>" token if it has one. */
export async function readVocabPieces(folder: string): Promise<{ pieces: Record<string, number>; padId: number | undefined }> {
  const path = join(folder, 'tokenizer.json');
  const json = JSON.parse(await readFile(path, 'utf8')) as { model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number; content: string }[] };
  const raw = json.model?.vocab;
  if (!raw) throw badInput(`${path}: no model.vocab; the absorption eval needs the vocabulary pieces`);
  // Unigram models list [piece, score] pairs in id order; BPE / WordPiece map piece -> id.
  const pieces = Array.isArray(raw) ? Object.fromEntries(raw.map(([piece], id) => [piece, id])) : raw;
  const pad = json.added_tokens?.find((t) => t.content === '<pad>' || t.content === '[PAD]')?.id;
  return { pieces, padId: pad };
}
