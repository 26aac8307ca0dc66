/**
 * What the benchmarks compare against, installed by the bench itself so `npm run bench` works on
 * a fresh clone: the `ml` Python toolchain (`.tools/ml-venv` from infra/setup/requirements-ml.txt:
 * PyTorch, HF tokenizers, scikit-learn, SciPy), the model-preparation toolchain
 * (`.tools/prepare-venv`: HF transformers on PyTorch) and the demo model (Gemma 3 270M, prepared
 * into the same cache folder the tests use, `.tools/models/gemma3-270m`).
 *
 * A reference that cannot run is an error that names the area and the reason
 * (`referenceFailed`), never a record with a blank reference or ratio.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultStageContext } from '../lib/core/context.js';
import { projectPath } from '../lib/core/package-root.js';
import { ensurePrepareVenv, prepareModel } from '../stages/model/prepare-model.js';

interface ToolchainSetup {
  ensureToolchain(name: string, options?: { quiet?: boolean }): string;
}

/** A reference measurement that could not be taken: fails the area, naming it and the reason. */
export class ReferenceFailedError extends Error {
  constructor(area: string, reference: string, reason: string) {
    super(`${area}: the reference (${reference}) could not run: ${reason}`);
    this.name = 'ReferenceFailedError';
  }
}

export function referenceFailed(area: string, reference: string, reason: string): never {
  throw new ReferenceFailedError(area, reference, reason);
}

/** The last lines of a child's stderr, for an error message. */
export function tailOf(text: string | null | undefined, lines = 8): string {
  return (text ?? '').trim().split('\n').slice(-lines).join('\n');
}

const ensured = new Map<string, string>();

/**
 * Python of a project toolchain (`.tools/<name>-venv`), created or updated from
 * infra/setup/requirements-<name>.txt first (a few minutes the first time, one file read after).
 */
export async function toolchainPython(name: 'ml'): Promise<string> {
  const known = ensured.get(name);
  if (known) return known;
  // Plain JavaScript outside the compiled tree (npm's set-up scripts share it): load it from the sources.
  const setup = (await import(pathToFileURL(projectPath('infra', 'setup', 'toolchain.mjs')).href)) as ToolchainSetup;
  process.stderr.write(`[bench] ensuring the ${name} toolchain (.tools/${name}-venv)\n`);
  const python = setup.ensureToolchain(name);
  ensured.set(name, python);
  return python;
}

/** Python of `.tools/prepare-venv` (HF transformers + PyTorch, pinned), created on first use. */
export async function prepareVenvPython(): Promise<string> {
  const known = ensured.get('prepare');
  if (known) return known;
  const python = await ensurePrepareVenv(process.env.TSAE_PYTHON ?? 'python3', defaultStageContext());
  ensured.set('prepare', python);
  return python;
}

/** The demo model folder the model-dependent cases run on (TSAE_DEMO_MODEL overrides it). */
export function demoModelDir(): string {
  return resolve(process.env.TSAE_DEMO_MODEL ?? projectPath('.tools', 'models', 'gemma3-270m'));
}

/** Prepares the demo model unless it is there and passes its parity check; returns its folder. */
export async function ensureDemoModel(): Promise<string> {
  const dir = demoModelDir();
  if (process.env.TSAE_DEMO_MODEL && existsSync(join(dir, 'tsae.json'))) return dir;
  await prepareModel({ source: 'gemma3-270m', out: dir }, defaultStageContext());
  return dir;
}
