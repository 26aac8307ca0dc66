/**
 * Screenshots of sections of a run's report, in headless Chromium (Debian's, driven by
 * playwright-core), for the README:
 *   node dist/infra/dev/report-screenshots.js <report/index.html> --name demo [--out docs/images]
 *        [--sections comparison,front-explained_variance,mechanisms]
 * Each section (an element id) is written to `<out>/report-<name>-<id>.png`.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { projectPath } from '../../lib/core/package-root.js';
import { scriptArgs } from './script-args.js';

const { positional, option } = scriptArgs(process.argv.slice(2));
const html = positional[0];
if (!html) {
  console.error('usage: node dist/infra/dev/report-screenshots.js <report/index.html> --name NAME [--out DIR] [--sections id,id]');
  process.exit(2);
}
const name = option('name', 'run');
const out = option('out', projectPath('docs', 'images'));
const sections = option('sections', 'comparison,front-explained_variance,front-kl_div_score,mechanisms').split(',');
await mkdir(out, { recursive: true });

const browser = await chromium.launch({ executablePath: process.env.TSAE_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });
  for (const id of sections) {
    const element = page.locator(`[id="${id}"]`).first();
    if ((await element.count()) === 0) {
      console.error(`no element with id '${id}' in ${html}`);
      process.exitCode = 1;
      continue;
    }
    const path = join(out, `report-${name}-${id}.png`);
    await element.screenshot({ path });
    console.log(`wrote ${path}`);
  }
} finally {
  await browser.close();
}
