#!/usr/bin/env node
// The small real models the test suite runs on. `npm test` (its pretest, ensure-test-tools.mjs)
// converts each once with `tsae model prepare` into a stable cache folder, `.tools/models/<name>`,
// so the real-model tests run on a fresh clone instead of skipping. Idempotent: a stamp in the
// folder records the conversion code it was built from; an unchanged stamp costs one file read,
// a changed one (new exporter, new pins) rebuilds the folder.
//
//   node infra/setup/test-models.mjs            # prepare the test models (what pretest does)
//   node infra/setup/test-models.mjs --print    # their folders, one a line
//
// Environment: TSAE_TEST_MODELS (comma-separated registry names; default below),
// TSAE_MODELS_DIR (where the folders live; default .tools/models).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Gemma 3 270M: the demo model, so the tests check the model users run. Its conversion costs
 * about 3 minutes once on 2 busy cores (SmolLM2-135M costs about the same), which keeps a fresh
 * clone's `.ci/run` under 20 minutes (README, Tests).
 */
export const DEFAULT_TEST_MODELS = ['gemma3-270m'];

/** Registry names the tests need prepared. */
export function testModels() {
  const names = (process.env.TSAE_TEST_MODELS ?? DEFAULT_TEST_MODELS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return [...new Set(names)];
}

/** Folder holding the prepared models (one sub-folder per registry name). */
export function modelsDir() {
  return resolve(process.env.TSAE_MODELS_DIR ?? join(root, '.tools', 'models'));
}

/** What a prepared folder depends on: a change to any of these files rebuilds it. */
const CONVERSION_FILES = [
  'infra/python-runtime/prepare_model.py',
  'infra/python-runtime/onnx_export.py',
  'infra/python-runtime/requirements-prepare.txt',
  'stages/model/prepare-model.ts',
];

export function conversionStamp(name) {
  const hash = createHash('sha256').update(name);
  for (const file of CONVERSION_FILES) hash.update(file).update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

const STAMP_FILE = '.tsae-test-model-stamp';

/** True when `dir` holds a prepared model built by the current conversion code. */
export function isPrepared(name, dir = join(modelsDir(), name)) {
  const stamp = join(dir, STAMP_FILE);
  return existsSync(join(dir, 'tsae.json')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === conversionStamp(name);
}

/**
 * Prepares `name` into `<modelsDir>/<name>` unless it is already there and current. Runs the
 * compiled CLI (dist/ must be built), which installs `.tools/prepare-venv` on first use and
 * checks the export against Hugging Face before the stamp is written.
 */
export function ensureTestModel(name, { log = (...a) => console.error('[tsae test]', ...a) } = {}) {
  const dir = join(modelsDir(), name);
  if (isPrepared(name, dir)) return dir;
  const stale = existsSync(join(dir, STAMP_FILE));
  log(`preparing the test model ${name} into ${dir}${stale ? ' (conversion code changed: rebuilding)' : ''}; the first time takes a few minutes`);
  const started = Date.now();
  const args = [join(root, 'bin', 'tsae.js'), 'model', 'prepare', name, '--out', dir];
  if (stale) args.push('--force');
  // The CLI's log lines (JSON) go to stderr with ours; its stdout is the summary, also logged.
  execFileSync(process.execPath, args, { stdio: ['ignore', 2, 'inherit'] });
  writeFileSync(join(dir, STAMP_FILE), conversionStamp(name) + '\n');
  log(`${name} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--print')) {
    for (const name of testModels()) console.log(join(modelsDir(), name));
  } else {
    try {
      for (const name of testModels()) ensureTestModel(name);
    } catch (error) {
      console.error(`[tsae test] preparing the test models failed: ${error.message}`);
      process.exit(1);
    }
  }
}
