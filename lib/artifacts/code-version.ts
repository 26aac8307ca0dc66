/**
 * A stage's code version, derived from the code it runs: sha256 over its module graph (every
 * project file reachable by static `import`/`export ... from`/literal `import()` from the
 * stage's entry module, by content), the name and version of every package it imports, and the
 * non-JavaScript assets it executes (Python scripts, requirement pins). Any edit to a stage or to
 * anything it depends on therefore changes its artifact keys, with no hand-kept version string;
 * an edit to code the stage does not reach leaves its keys alone.
 *
 * The graph is read from the files that actually run (dist/*.js when compiled, *.ts under tsx).
 * Type-only imports are erased by the compiler and do not count: they cannot change behaviour.
 * Paths enter the hash relative to the package root, so a checkout at another path, or another
 * machine with the same code, computes the same version.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CodeVersion {
  /** Hex sha256 of the whole graph (the value that enters artifact keys). */
  hash: string;
  /** Project files in the graph, relative to the root, sorted (for diagnostics). */
  files: string[];
  /** `name@version` of every imported package, sorted. */
  packages: string[];
}

export interface CodeVersionOptions {
  /** Package root the file paths are made relative to (the folder holding package.json). */
  root: string;
  /** Extra files (relative to `sourceRoot`, default `root`) the stage executes: scripts, pins. */
  assets?: string[];
  /** Where assets live when the graph runs from a build folder (dist/ → the source tree). */
  sourceRoot?: string;
}

const STATIC_IMPORT = /(?:^|[;\n}])\s*(?:import|export)\s+(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
const CREATE_REQUIRE = /createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Computes the code version of the module graph rooted at `entryFile` (no caching). */
export function computeCodeVersion(entryFile: string, options: CodeVersionOptions): CodeVersion {
  const root = resolve(options.root);
  const files = new Map<string, string>();
  const packages = new Set<string>();
  const pending = [resolve(entryFile)];
  while (pending.length) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    files.set(file, sha256(text));
    for (const specifier of importSpecifiers(text)) {
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.') || isAbsolute(specifier)) {
        const target = resolveRelative(file, specifier);
        if (target) pending.push(target);
        continue;
      }
      packages.add(packageVersion(specifier, file));
    }
  }
  const assetRoot = resolve(options.sourceRoot ?? root);
  const hash = createHash('sha256');
  const listed = [...files.entries()].map(([file, digest]) => [toPosix(relative(root, file)), digest] as const).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [path, digest] of listed) hash.update(`file ${path} ${digest}\n`);
  const sortedPackages = [...packages].sort();
  for (const pkg of sortedPackages) hash.update(`package ${pkg}\n`);
  for (const asset of [...(options.assets ?? [])].sort()) hash.update(`asset ${asset} ${sha256(readFileSync(join(assetRoot, asset)))}\n`);
  return { hash: hash.digest('hex'), files: listed.map(([path]) => path), packages: sortedPackages };
}

/** Specifiers of static imports/re-exports, literal dynamic imports and createRequire calls. */
export function importSpecifiers(source: string): string[] {
  const code = stripComments(source);
  const found: string[] = [];
  for (const pattern of [STATIC_IMPORT, DYNAMIC_IMPORT, CREATE_REQUIRE]) {
    pattern.lastIndex = 0;
    for (let match = pattern.exec(code); match; match = pattern.exec(code)) found.push(match[1]);
  }
  return found;
}

/** Removes block and line comments (keeps string contents; good enough for import scanning). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
}

/** `./x.js` from a .ts file means `./x.ts` (TypeScript's NodeNext convention). */
function resolveRelative(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.js`, `${base}.ts`, join(base, 'index.js'), join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && !c.endsWith(sep)) ?? null;
}

/** `name@version` of the package a bare specifier resolves to from `from`. */
function packageVersion(specifier: string, from: string): string {
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  try {
    const require = createRequire(from);
    let dir = dirname(require.resolve(specifier));
    for (;;) {
      const manifest = join(dir, 'package.json');
      if (existsSync(manifest)) {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return `${name}@${pkg.version ?? '?'}`;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  } catch {
    // a package that cannot be resolved still names itself in the hash
  }
  return `${name}@unresolved`;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

const cache = new Map<string, CodeVersion>();

/**
 * The code version of the module at `moduleUrl` (a stage's `import.meta.url`), memoised per
 * process: the code cannot change under a running process.
 */
export function codeVersionOf(moduleUrl: string, root: string, assets: string[] = [], sourceRoot?: string): CodeVersion {
  const key = `${moduleUrl}\n${root}\n${assets.join('\n')}`;
  let version = cache.get(key);
  if (!version) {
    version = computeCodeVersion(fileURLToPath(moduleUrl), { root, assets, sourceRoot });
    cache.set(key, version);
  }
  return version;
}
