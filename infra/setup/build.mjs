#!/usr/bin/env node
// `npm run build` (and `npm ci`'s prepare): compiles the TypeScript to dist/ incrementally (the
// build info lives in dist/, so deleting dist/ forces a full build), then removes compiled files
// whose source is gone, so `node --test dist/test/` never runs a deleted test. `npm test` builds
// again in its pretest; right after `npm ci` that costs seconds instead of a full compile.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', join(dist, '.tsbuildinfo')], { stdio: 'inherit' });
} catch {
  process.exit(1);
}

/** dist/<path>.js (or .js.map) -> <path>.ts; true when that source still exists. */
function hasSource(file) {
  const rel = relative(dist, file).replace(/\.js(\.map)?$/, '');
  return ['.ts', '.mts', '.tsx'].some((ext) => existsSync(join(root, rel + ext)));
}

let removed = 0;
function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) prune(path);
    else if (/\.js(\.map)?$/.test(entry.name) && !hasSource(path)) {
      rmSync(path);
      removed++;
    }
  }
}
if (existsSync(dist)) prune(dist);
if (removed) console.log(`[tsae build] removed ${removed} compiled files whose source is gone`);
