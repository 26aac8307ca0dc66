/**
 * Screenshots of the Temporal Web UI for a run, in headless Chromium (Debian's, driven by
 * playwright-core), for the README: the run's workflow list (the root, its fan-out batches and
 * SAE children, found by TsaeRunId), the root workflow with its summary, details and memo, and a
 * variant child's event history with readable activity ids.
 *   node dist/infra/dev/ui-screenshots.js <workflow id> [--ui http://127.0.0.1:8233] [--out docs/images]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { projectPath } from '../../lib/core/package-root.js';
import { scriptArgs } from './script-args.js';

const { positional, option } = scriptArgs(process.argv.slice(2));
const runId = positional[0];
if (!runId) {
  console.error('usage: node dist/infra/dev/ui-screenshots.js <workflow id> [--ui URL] [--out DIR] [--child LABEL]');
  process.exit(2);
}
const ui = option('ui', 'http://127.0.0.1:8233');
const out = option('out', projectPath('docs', 'images'));
const child = option('child', 'atr');
const namespace = 'default';
await mkdir(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.TSAE_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const shoot = async (name: string, url: string, waitFor: string) => {
    await page.goto(url, { waitUntil: 'networkidle' });
    await page.getByText(waitFor, { exact: false }).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(out, name), fullPage: false });
    console.log(`wrote ${join(out, name)}`);
  };
  const query = encodeURIComponent(`TsaeRunId="${runId}"`);
  await shoot('ui-run-tree.png', `${ui}/namespaces/${namespace}/workflows?query=${query}`, runId);
  await shoot('ui-run.png', `${ui}/namespaces/${namespace}/workflows/${encodeURIComponent(runId)}`, runId);
  await shoot('ui-variant-history.png', `${ui}/namespaces/${namespace}/workflows/${encodeURIComponent(`${runId}--${child}`)}/history`, `${child}`);
} finally {
  await browser.close();
}
