/**
 * Issue 16, acceptance: "No type-level or runtime import cycles". The project's import graph
 * (value imports, `import type`, `export ... from`, dynamic `import()`) has no cycle; the
 * scanner itself is checked on a small tree with known cycles, so this cannot pass by finding
 * nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { projectPath } from '../../lib/core/package-root.js';
import { cyclesOf, describeCycle, importGraph, sourceFiles } from '../helpers/import-graph.js';

/** Build outputs, installed packages, and test inputs (workflow versions, report fixtures) that are not project code. */
const skipDir = (dir: string) => ['node_modules', 'dist'].includes(dir.split('/').pop()!) || (dir.startsWith('test/') && dir.endsWith('/fixtures'));

test('the project has no import cycle, counting type-only imports, re-exports and dynamic imports', () => {
  const root = projectPath();
  const files = sourceFiles(root, skipDir);
  assert.ok(files.includes('workflows/pipeline.ts') && files.includes('infra/dev/fixtures/record-histories.ts'), 'the scan misses project sources');
  assert.ok(!files.some((f) => f.startsWith('test/workflows/fixtures/') || f.startsWith('dist/')), 'the scan reads fixtures or build output');
  const edges = importGraph(root, files);
  assert.ok(edges.length > files.length, `only ${edges.length} imports among ${files.length} files: the scanner lost them`);
  assert.ok(edges.some((e) => e.kind === 'type') && edges.some((e) => e.kind === 'dynamic'), 'type-only or dynamic imports are not seen');
  const cycles = cyclesOf(edges);
  assert.deepEqual(cycles.map((c) => describeCycle(c, edges)), [], 'import cycles');
});

test('the scanner finds value, type-only, re-export and dynamic cycles and ignores what is not one', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tsae-cycles-'));
  const files: Record<string, string> = {
    'a/value1.ts': "import { two } from './value2.js';\nexport const one = () => two;\n",
    'a/value2.ts': "import { one } from './value1.js';\nexport const two = 2; export const back = one;\n",
    'b/type1.ts': "import type { T2 } from '../b/type2.js';\nexport interface T1 { x: T2 }\n",
    'b/type2.ts': "import { type T1 } from './type1.js';\nexport interface T2 { y?: T1 }\n",
    'c/reexport.ts': "export { leaf } from './leaf.js';\n",
    'c/leaf.ts': "import type * as all from './reexport.js';\nexport const leaf = 1; export type All = typeof all;\n",
    'd/lazy.ts': "export async function load() { return import('./eager.js'); }\n",
    'd/eager.ts': "import { load } from './lazy.js';\nexport const start = load;\n",
    'e/self.ts': "export type Self = import('./self.js').Other; export type Other = number;\n",
    'f/root.ts': "import { x } from './dep.js';\nimport 'node:fs';\nimport { z } from 'zod';\nexport const y = [x, z];\n",
    'f/dep.ts': "export const x = 1;\n",
    'test/fixtures/skipped.ts': "import { x } from '../../f/dep.js';\nexport const w = x;\n",
  };
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    const scanned = sourceFiles(root, skipDir);
    assert.ok(!scanned.includes('test/fixtures/skipped.ts'));
    const edges = importGraph(root, scanned);
    const kindOf = (from: string, to: string) => edges.find((e) => e.from === from && e.to === to)?.kind;
    assert.equal(kindOf('b/type1.ts', 'b/type2.ts'), 'type');
    assert.equal(kindOf('b/type2.ts', 'b/type1.ts'), 'type', 'named imports all marked `type` load nothing');
    assert.equal(kindOf('c/reexport.ts', 'c/leaf.ts'), 'value');
    assert.equal(kindOf('d/lazy.ts', 'd/eager.ts'), 'dynamic');
    assert.deepEqual(cyclesOf(edges), [
      ['a/value1.ts', 'a/value2.ts'],
      ['b/type1.ts', 'b/type2.ts'],
      ['c/leaf.ts', 'c/reexport.ts'],
      ['d/eager.ts', 'd/lazy.ts'],
      ['e/self.ts'],
    ]);
    assert.equal(describeCycle(['a/value1.ts', 'a/value2.ts'], edges), 'a/value1.ts -(value)-> a/value2.ts -(value)-> a/value1.ts');
    assert.deepEqual(cyclesOf(edges.filter((e) => e.kind === 'value')), [['a/value1.ts', 'a/value2.ts']]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
