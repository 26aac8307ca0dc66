import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { CorpusFormat } from '../../schemas/corpus.js';
import { CORPUS_FORMATS } from '../../schemas/corpus.js';
import { badConfig } from '../../lib/core/errors.js';

export interface CorpusFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the corpus root, forward slashes. */
  relPath: string;
  format: CorpusFormat;
  bytes: number;
}

/** The format of a file from its name, or null when it is not a corpus file. */
export function formatOfFile(name: string): CorpusFormat | null {
  if (name.endsWith('.jsonl.zst')) return 'jsonl.zst';
  if (name.endsWith('.jsonl')) return 'jsonl';
  if (name.endsWith('.parquet')) return 'parquet';
  return null;
}

const GLOB_CHARS = /[*?[]/;

/**
 * The corpus files named by a file path, a directory (recursive) or a glob (*, **, ?), sorted
 * by relative path so every plan built from them is deterministic. Hidden files are ignored.
 */
export async function listCorpusFiles(path: string, formats: readonly CorpusFormat[]): Promise<{ root: string; files: CorpusFile[] }> {
  const absolute = resolve(path);
  let root: string;
  let matches: (rel: string) => boolean;
  if (GLOB_CHARS.test(path)) {
    const parts = absolute.split(sep);
    const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
    root = parts.slice(0, firstGlob).join(sep) || sep;
    const pattern = globToRegExp(parts.slice(firstGlob).join('/'));
    matches = (rel) => pattern.test(rel);
  } else {
    const info = await stat(absolute).catch(() => null);
    if (!info) throw badConfig(`Corpus path ${absolute} does not exist; give a file, a directory or a glob such as "dir/*.jsonl.zst"`);
    if (info.isFile()) {
      const format = formatOfFile(basename(absolute));
      if (!format) throw badConfig(`Corpus file ${absolute} has an unknown format; allowed extensions: ${extensionList()}`);
      return { root: dirname(absolute), files: [{ path: absolute, relPath: basename(absolute), format, bytes: info.size }] };
    }
    root = absolute;
    matches = () => true;
  }
  const files: CorpusFile[] = [];
  for (const file of await walkFiles(root)) {
    const relPath = relative(root, file).split(sep).join('/');
    const format = formatOfFile(relPath);
    if (!format || !formats.includes(format) || !matches(relPath)) continue;
    files.push({ path: file, relPath, format, bytes: (await stat(file)).size });
  }
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  if (files.length === 0) {
    throw badConfig(`No corpus files under ${path} (formats: ${formats.join(', ')}; allowed extensions: ${extensionList()})`);
  }
  return { root, files };
}

function extensionList(): string {
  return CORPUS_FORMATS.map((f) => '.' + f).join(', ');
}

async function walkFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** A glob over forward-slash relative paths: ** spans directories, * and ? do not. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
