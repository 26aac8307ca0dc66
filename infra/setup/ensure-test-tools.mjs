#!/usr/bin/env node
// Run by `npm test` before the tests: the browser test needs Debian's Chromium (playwright-core
// drives it; no browser download). Installs it when missing and this user can (root with apt);
// otherwise explains. Skipped with TSAE_SKIP_BROWSER_TESTS=1.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.TSAE_CHROMIUM ?? '/usr/bin/chromium';
if (process.env.TSAE_SKIP_BROWSER_TESTS === '1' || existsSync(chromium)) process.exit(0);
if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  console.log('[tsae test] installing Debian chromium for the report browser test');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
} else {
  console.warn(`[tsae test] ${chromium} is missing: install Debian's chromium (apt-get install chromium), set TSAE_CHROMIUM, or TSAE_SKIP_BROWSER_TESTS=1`);
}
