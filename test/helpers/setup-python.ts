/**
 * The Python that interop tests hand our files to (pyarrow reads our Parquet and Arrow shards,
 * `safetensors` reads our SAE weights). `npm ci` installs it: its postinstall
 * (infra/setup/setup.mjs) builds `.tools/venv` from infra/setup/requirements-tools.txt. A dev
 * toolchain that has the module serves too. Missing, the test FAILS with the command that
 * installs it, never skips: CI must run every test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { projectPath } from '../../lib/core/package-root.js';

const VENVS = ['venv', 'ml-venv', 'saelens-venv'];
const found = new Map<string, string>();

/** A project Python that imports `module` (e.g. 'pyarrow', 'safetensors.numpy'); throws how to install it otherwise. */
export function setupPython(module: string): string {
  const cached = found.get(module);
  if (cached) return cached;
  for (const venv of VENVS) {
    const python = projectPath('.tools', venv, 'bin', 'python');
    if (existsSync(python) && spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) {
      found.set(module, python);
      return python;
    }
  }
  throw new Error(
    `no Python with ${module} in .tools/{${VENVS.join(',')}}: \`npm ci\` installs it into .tools/venv ` +
      '(postinstall: node infra/setup/setup.mjs; not with TSAE_SKIP_SETUP=1)',
  );
}
