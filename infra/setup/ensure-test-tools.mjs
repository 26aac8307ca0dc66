#!/usr/bin/env node
// Run by `npm test` before the tests (after the build), so a fresh clone's `npm ci && npm test`
// runs every test instead of skipping some:
//  - the browser tests need Debian's Chromium (playwright-core drives it; no browser download),
//    the ELF reader test needs readelf (Debian binutils): installed when missing and this user
//    can (root with apt); otherwise explained. Users may opt out of the browser tests with
//    TSAE_SKIP_BROWSER_TESTS=1 (CI does not: .ci/run clears it).
//  - the real-model tests need the small real model(s) of infra/setup/test-models.mjs, converted
//    once into .tools/models/<name> (a few minutes the first time, then one file read).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureTestModel, testModels } from './test-models.mjs';

/** Installs a Debian package when its binary is missing and this user can (root with apt); otherwise explains. */
function ensureDebianTool(binary, pkg, why, hint) {
  if (existsSync(binary)) return;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`[tsae test] installing Debian ${pkg} for ${why}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  } else {
    console.warn(`[tsae test] ${binary} is missing: install Debian's ${pkg} (apt-get install ${pkg})${hint}`);
  }
}

function ensureChromium() {
  if (process.env.TSAE_SKIP_BROWSER_TESTS === '1') return;
  ensureDebianTool(process.env.TSAE_CHROMIUM ?? '/usr/bin/chromium', 'chromium', 'the report browser tests', ', set TSAE_CHROMIUM, or TSAE_SKIP_BROWSER_TESTS=1');
}

ensureChromium();
// readelf: the reference the ELF reader of `tsae gpu setup` is checked against (test/infra/gpu/elf-fatbin.test.ts).
ensureDebianTool('/usr/bin/readelf', 'binutils', 'the ELF reader test', '');
try {
  for (const name of testModels()) ensureTestModel(name);
} catch (error) {
  console.error(`[tsae test] preparing the test models failed: ${error.message}`);
  process.exit(1);
}
