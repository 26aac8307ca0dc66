#!/usr/bin/env node
// Creates (or updates) a project-local Python toolchain: `.tools/<name>-venv` from
// `infra/setup/requirements-<name>.txt`. Idempotent: a stamp records the requirements it was
// built from, so an unchanged toolchain costs one file read. Binaries are called by path.
//
//   node infra/setup/toolchain.mjs ml        # PyTorch CPU, scikit-learn, SciPy, tokenizers, transformers (bench references, fixture generators)
//   node infra/setup/toolchain.mjs saelens   # SAELens (load checks of exported SAEs, parity fixtures)
//
// Also importable: `ensureToolchain(name)` returns the venv's python path.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Requirements text including the files it includes with `-r`, so a change to any of them rebuilds. */
function requirementsClosure(file) {
  const text = readFileSync(file, 'utf8');
  const included = [...text.matchAll(/^-r\s+(\S+)/gm)].map((m) => requirementsClosure(join(dirname(file), m[1])));
  return [text, ...included].join('\n');
}

export function findPython() {
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
  throw new Error('Python >= 3.9 with venv is required (set TSAE_PYTHON to its path)');
}

/**
 * Builds `.tools/<name>-venv` (or `venv`, when given) if its requirements changed; returns its python.
 */
export function ensureToolchain(name, { quiet = false, venv = join(root, '.tools', `${name}-venv`) } = {}) {
  const requirements = join(root, 'infra', 'setup', `requirements-${name}.txt`);
  if (!existsSync(requirements)) throw new Error(`unknown toolchain '${name}': ${requirements} does not exist`);
  const python = join(venv, 'bin', 'python');
  const stamp = join(venv, '.tsae-stamp');
  const wanted = requirementsClosure(requirements);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted && existsSync(python)) return python;
  const log = quiet ? () => {} : (...a) => console.error('[tsae toolchain]', ...a);
  mkdirSync(join(root, '.tools'), { recursive: true });
  if (!existsSync(python)) {
    log(`creating ${venv}`);
    execFileSync(findPython(), ['-m', 'venv', venv], { stdio: 'inherit' });
  }
  log(`installing ${requirements} (first time: a few minutes)`);
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], { stdio: ['ignore', 'inherit', 'inherit'] });
  writeFileSync(stamp, wanted);
  log(`${name} toolchain ready: ${python}`);
  return python;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const names = process.argv.slice(2);
  if (names.length === 0 || names.includes('--help')) {
    console.log('usage: node infra/setup/toolchain.mjs NAME...   (NAME: ml, saelens)');
    process.exit(names.length === 0 ? 2 : 0);
  }
  try {
    for (const name of names) console.log(ensureToolchain(name));
  } catch (error) {
    console.error(`[tsae toolchain] ${error.message}`);
    process.exit(1);
  }
}
