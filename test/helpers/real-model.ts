/**
 * The small real models the tests run on. `npm test`'s pretest (infra/setup/ensure-test-tools.mjs)
 * converts them once with `tsae model prepare` into `.tools/models/<name>` (TSAE_MODELS_DIR
 * overrides the folder, TSAE_TEST_MODELS the list; infra/setup/test-models.mjs is the one place
 * that names them). A test that needs one asks for its folder here and FAILS, never skips, when it
 * is missing: CI must run every test.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REGISTRY_MODELS, type RegistryModel } from '../../schemas/model.js';
import { projectPath } from '../../lib/core/package-root.js';

interface TestModelsSetup {
  testModels(): string[];
  modelsDir(): string;
}

// The set-up script is plain JavaScript outside the compiled tree: load it from the sources.
const setup = (await import(pathToFileURL(projectPath('infra', 'setup', 'test-models.mjs')).href)) as TestModelsSetup;

/** Folder holding the prepared models, one sub-folder per registry name. */
export const MODELS_DIR = setup.modelsDir();

/** The registry models CI prepares (infra/setup/test-models.mjs). */
export const TEST_MODELS: RegistryModel[] = setup.testModels().map((name) => {
  if (!(REGISTRY_MODELS as readonly string[]).includes(name)) throw new Error(`TSAE_TEST_MODELS: '${name}' is not a registry model (${REGISTRY_MODELS.join(', ')})`);
  return name as RegistryModel;
});

function isPrepared(name: RegistryModel): boolean {
  return existsSync(join(MODELS_DIR, name, 'tsae.json'));
}

/**
 * Registry models to run the real-model tests on: the ones CI prepares (whose tests fail when
 * they are missing) and any other registry model prepared here (checked too, since it is there).
 */
export function realModels(): RegistryModel[] {
  return REGISTRY_MODELS.filter((name) => TEST_MODELS.includes(name) || isPrepared(name));
}

/** Folder of a prepared real model (default: the first CI model); throws how to prepare it when missing. */
export function realModelDir(name: RegistryModel = TEST_MODELS[0]): string {
  const dir = join(MODELS_DIR, name);
  if (!isPrepared(name)) {
    throw new Error(
      `the real model ${name} is not prepared at ${dir}. \`npm test\` prepares it before the tests (pretest); ` +
        `by hand: \`TSAE_TEST_MODELS=${name} node infra/setup/test-models.mjs\` (after \`npm run build\`).`,
    );
  }
  return dir;
}
