import type { SkipReason } from '../../schemas/corpus.js';
import type { TsaeError } from '../../lib/core/errors.js';
import type { SkipLog } from './skip-log.js';

/** One document of a corpus in The Pile layout, with where it came from. */
export interface CorpusRecord {
  text: string;
  /** The record's meta object ({} when absent); meta.pile_set_name is its source set. */
  meta: Record<string, unknown>;
  /** Corpus-relative path of the file, forward slashes. */
  file: string;
  /** 1-based line number for JSON lines; 0-based row index for Parquet. */
  line: number;
  /** Offset of the line in the decompressed stream (JSON lines only). */
  byteOffset?: number;
  /** "file:line" for JSON lines, "file#row" for Parquet: the document id and error location. */
  location: string;
}

export interface RecordCheckOptions {
  maxDocChars: number;
}

/** What every source-file reader (JSON lines, Parquet) takes besides where to read. */
export interface SourceReadOptions extends RecordCheckOptions {
  /** Absolute path of the file. */
  path: string;
  /** Corpus-relative path used in locations and document ids. */
  relPath: string;
  textField: string;
  metaField: string;
  skips: SkipLog;
  /** Called with source-file bytes consumed, for progress. */
  onSourceOffset?: (offset: number) => void;
  /**
   * Called with the BAD_INPUT error of damaged data (what ends the read depends on the format);
   * it may rethrow (badInput 'fail'). Without it the error propagates.
   */
  onCorrupt?: (error: TsaeError) => void;
}

/** A text problem that makes a record bad input, or null when the text is usable. */
export function checkText(text: unknown, options: RecordCheckOptions): { reason: SkipReason; detail: string } | null {
  if (text === undefined || text === null) return { reason: 'missing-text', detail: 'no text field' };
  if (typeof text !== 'string') return { reason: 'non-string-text', detail: `text is ${Array.isArray(text) ? 'array' : typeof text}` };
  if (text.length > options.maxDocChars) {
    return { reason: 'too-long', detail: `${text.length} chars > limits.maxDocChars ${options.maxDocChars}` };
  }
  if (LONE_SURROGATE.test(text)) return { reason: 'lone-surrogate', detail: 'unpaired UTF-16 surrogate in text' };
  if (text.trim().length === 0) return { reason: 'empty-text', detail: text.length === 0 ? 'empty' : 'whitespace only' };
  return null;
}

/** With the u flag, a surrogate range only matches surrogates that are not part of a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The meta field as an object: objects pass, JSON strings are parsed, anything else is {}. */
export function normalizeMeta(meta: unknown): Record<string, unknown> {
  if (meta && typeof meta === 'object' && !Array.isArray(meta)) return meta as Record<string, unknown>;
  if (typeof meta === 'string') {
    try {
      const parsed: unknown = JSON.parse(meta);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // A non-JSON meta string carries no source set; the record itself is still usable.
    }
  }
  return {};
}

/** The source set of a record (meta.pile_set_name), or "unknown". */
export function sourceSetOf(meta: Record<string, unknown>): string {
  const name = meta.pile_set_name;
  return typeof name === 'string' && name.length > 0 ? name : 'unknown';
}
