/**
 * Exact piecewise encoding for SentencePiece-style BPE tokenizers (Gemma): the text is cut
 * before a space wherever no vocabulary token and no added token can span the cut, so the
 * pieces encode to the same ids as the whole text, and repeated pieces come from a cache.
 *
 * Why it is exact: a BPE merge only ever produces a vocabulary token, and added tokens are
 * matched literally; if none of them contains the character pair (x, space-marker), no merge
 * and no added-token match can cross a boundary between x and a space. The pre-tokenizer and
 * normalizer must be local for this to hold, so only the Gemma shape is accepted:
 * normalizer Replace(' ' -> '▁'), pre-tokenizer none (or a Split on ' ', a no-op once spaces
 * became '▁'), BPE without dropout or subword affixes. Anything else returns null (no fast path).
 */

export interface TokenizerJson {
  normalizer?: { type?: string; pattern?: { String?: string }; content?: string } | null;
  pre_tokenizer?: { type?: string; pattern?: { String?: string } } | null;
  model?: {
    type?: string;
    dropout?: number | null;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    vocab?: Record<string, number>;
  };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  post_processor?: { type?: string; single?: unknown[] } | null;
}

const MARKER = '▁';

/** The characters after which a cut before a space is NOT safe, or null when the shape is unsupported. */
export function unsafeBeforeSpace(json: TokenizerJson): Set<string> | null {
  const n = json.normalizer;
  if (!n || n.type !== 'Replace' || n.pattern?.String !== ' ' || n.content !== MARKER) return null;
  const p = json.pre_tokenizer;
  if (p && !(p.type === 'Split' && p.pattern?.String === ' ')) return null;
  const m = json.model;
  if (!m || m.type !== 'BPE' || m.dropout || m.continuing_subword_prefix || m.end_of_word_suffix || !m.vocab) return null;
  const unsafe = new Set<string>();
  const scan = (token: string) => {
    const chars = Array.from(token);
    for (let i = 1; i < chars.length; i++) {
      const isSpace = chars[i] === MARKER || chars[i] === ' ';
      const prevSpace = chars[i - 1] === MARKER || chars[i - 1] === ' ';
      if (isSpace && !prevSpace) unsafe.add(chars[i - 1]);
    }
  };
  for (const token of Object.keys(m.vocab)) scan(token);
  for (const added of json.added_tokens ?? []) scan(added.content);
  return unsafe;
}

/**
 * Cuts text before each run of spaces whose preceding character is safe. Pieces concatenate
 * back to the text exactly.
 */
export function splitAtSafeSpaces(text: string, unsafe: Set<string>): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 1; i < text.length; i++) {
    if (text.charCodeAt(i) !== 32) continue;
    const prevCode = text.charCodeAt(i - 1);
    if (prevCode === 32) continue;
    // The character before the space may be the second half of a surrogate pair.
    const isLow = prevCode >= 0xdc00 && prevCode <= 0xdfff && i >= 2;
    const prev = isLow ? text.slice(i - 2, i) : text[i - 1];
    if (unsafe.has(prev)) continue;
    pieces.push(text.slice(start, i));
    start = i;
  }
  pieces.push(text.slice(start));
  return pieces;
}
