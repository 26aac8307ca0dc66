/**
 * Cache versions derived from code: a change to one line of a stage's code changes that
 * stage's version (so its cache keys) and no other stage's; an artifact written by the old code
 * is not reused by the new.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { computeCodeVersion, importSpecifiers } from '../../../lib/artifacts/code-version.js';
import { ArtifactStore } from '../../../lib/artifacts/store.js';
import { packageRoot } from '../../../lib/core/package-root.js';
import { STAGES } from '../../../stages/registry.js';

const root = packageRoot();

/** A copy of the compiled tree (and a link to node_modules) that the test may edit. */
function copyOfBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsae-codever-'));
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.includes(`${join('dist', 'test')}`) });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(root, 'infra', 'python-runtime'), join(dir, 'infra', 'python-runtime'), { recursive: true });
  return dir;
}

function versionsIn(dir: string): Map<string, { hash: string; files: string[] }> {
  const out = new Map<string, { hash: string; files: string[] }>();
  for (const [name, def] of Object.entries(STAGES)) {
    const entry = join(dir, relative(root, fileURLToPath(def.module)));
    out.set(name, computeCodeVersion(entry, { root: dir, assets: def.assets }));
  }
  return out;
}

test('import scanning finds static, re-export, dynamic and createRequire specifiers, not comments', () => {
  const source = [
    "import { a } from './a.js';",
    "export * from './b.js';",
    "import './side-effect.js';",
    "const m = await import('./lazy.js');",
    "const z = createRequire(import.meta.url)('zstd-napi');",
    "// import { gone } from './commented.js';",
    "/* import x from './block.js'; */",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source).sort(), ['./a.js', './b.js', './lazy.js', './side-effect.js', 'zstd-napi'].sort());
});

test('changing one line of a stage-only file changes that stage\'s version and no other stage\'s', { timeout: 120_000 }, () => {
  const dir = copyOfBuild();
  try {
    const before = versionsIn(dir);
    const owners = new Map<string, string[]>();
    for (const [name, v] of before) for (const file of v.files) owners.set(file, [...(owners.get(file) ?? []), name]);
    // Every stage with a file no other stage reaches: edit that file, only that stage moves.
    let checked = 0;
    for (const [name, v] of before) {
      const own = v.files.find((f) => owners.get(f)!.length === 1 && f.endsWith('.js'));
      if (!own) continue;
      const path = join(dir, own);
      const original = readFileSync(path, 'utf8');
      const lines = original.split('\n');
      const target = lines.findIndex((l) => l.trim().length > 0 && !l.startsWith('import') && !l.startsWith('//#'));
      lines[target] = `${lines[target]} // edited`;
      writeFileSync(path, lines.join('\n'));
      const after = versionsIn(dir);
      for (const [other, version] of after) {
        if (other === name) assert.notEqual(version.hash, before.get(other)!.hash, `${name}: editing ${own} must change its version`);
        else assert.equal(version.hash, before.get(other)!.hash, `${other}: editing ${own} (reached only by ${name}) must not change its version`);
      }
      writeFileSync(path, original);
      checked += 1;
    }
    assert.ok(checked >= 8, `only ${checked} stages have a file of their own`);
    // A Python asset of the model stage counts like code.
    const asset = join(dir, 'infra', 'python-runtime', 'onnx_export.py');
    writeFileSync(asset, readFileSync(asset, 'utf8') + '\n# edited\n');
    const afterAsset = versionsIn(dir);
    assert.notEqual(afterAsset.get('prepareModel')!.hash, before.get('prepareModel')!.hash);
    assert.equal(afterAsset.get('trainSae')!.hash, before.get('trainSae')!.hash);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an artifact made by the old code is not reused after the code changes: the stage runs again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsae-stale-'));
  try {
    const moduleFile = join(dir, 'stage-code.mjs');
    const write = (body: string) => writeFileSync(moduleFile, `export function produce() {\n  return ${body};\n}\n`);
    const store = new ArtifactStore(join(dir, 'data'));
    let runs = 0;
    const produce = async () => {
      const version = computeCodeVersion(moduleFile, { root: dir }).hash;
      const mod = (await import(`${pathToFileURL(moduleFile).href}?v=${version}`)) as { produce(): number };
      return store.produce({ stage: 'demo-stage', codeVersion: version, config: { same: 'config' }, inputs: ['same-input'] }, async () => {
        runs += 1;
        return { value: mod.produce() };
      });
    };
    write('1');
    const first = await produce();
    const cached = await produce();
    assert.equal(cached.cacheHit, true);
    assert.equal(runs, 1);
    write('2');
    const fresh = await produce();
    assert.equal(fresh.cacheHit, false, 'the old artifact must not be reused');
    assert.notEqual(fresh.ref.key, first.ref.key);
    assert.deepEqual(fresh.manifest.summary, { value: 2 });
    assert.equal(runs, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
