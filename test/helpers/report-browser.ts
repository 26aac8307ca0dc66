/**
 * Opens a generated report in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core) and checks what a reader relies on: no console errors and no network
 * requests (the page must be self-contained), Table 1 cells equal metrics.json, every figure is
 * an SVG with drawn marks, and the feature browser shows top contexts for a chosen latent.
 * Screenshots are saved. Reusable on any run's report (the lead calls it on the smoke run).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { ReportMetricsJson } from '../../stages/report/metrics-files.js';
import { resolvePath } from '../../stages/report/metric-catalog.js';

export const CHROMIUM_PATH = process.env.TSAE_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Page operations wait at most this long (the report is static; this only guards hangs). */
const PAGE_TIMEOUT_MS = 30_000;

export interface AssertReportOptions {
  /** Folder for the screenshots (default: a fresh temp folder, kept). */
  screenshotDir?: string;
  /** Latent to open in the feature browser (default: the first one listed of the first SAE with data). */
  latent?: { variant: string; id: number };
  /** Figure ids allowed to be absent for lack of data (e.g. fig1-* when the temporal eval did not run). */
  allowMissingFigures?: (id: string) => boolean;
}

export interface ReportBrowserResult {
  screenshots: string[];
  figures: { id: string; marks: number }[];
  checkedCells: number;
  latent: { variant: string; id: number; contexts: number };
}

/** Throws with install instructions when Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Headless Chromium not found at ${CHROMIUM_PATH}. Install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (CI installs it), point TSAE_CHROMIUM at another binary, ' +
        'or set TSAE_SKIP_BROWSER_TESTS=1 to skip the browser tests.',
    );
  }
}

/** Opens `htmlPath` and asserts the report renders; `metrics` is metrics.json (path or parsed). */
export async function assertReportRenders(htmlPath: string, metrics: string | ReportMetricsJson, options: AssertReportOptions = {}): Promise<ReportBrowserResult> {
  requireChromium();
  const metricsJson: ReportMetricsJson = typeof metrics === 'string' ? JSON.parse(await readFile(metrics, 'utf8')) : metrics;
  const shots = options.screenshotDir ?? (await mkdtemp(join(tmpdir(), 'tsae-report-shots-')));
  await mkdir(shots, { recursive: true });
  const userDataDir = await mkdtemp(join(tmpdir(), 'tsae-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      problems.push(`network request (report must be self-contained): ${url}`);
      return route.abort();
    });
    await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: 'load' });
    assert.deepEqual(problems, [], `the report page reported problems on load:\n${problems.join('\n')}`);

    const checkedCells = await checkTable1(page, metricsJson);
    const figures = await checkFigures(page, options.allowMissingFigures ?? (() => false));
    const screenshots = [join(shots, 'report-full.png'), join(shots, 'report-table1.png')];
    await page.screenshot({ path: screenshots[0], fullPage: true });
    await page.locator('#table1').screenshot({ path: screenshots[1] });
    const latent = await checkFeatureBrowser(page, options.latent);
    screenshots.push(join(shots, 'report-feature-browser.png'));
    await page.locator('#features').screenshot({ path: screenshots[2] });
    for (const s of screenshots) assert.ok((await stat(s)).size > 1000, `screenshot ${s} is empty`);
    assert.deepEqual(problems, [], `the report page reported problems:\n${problems.join('\n')}`);
    return { screenshots, figures, checkedCells, latent };
  } finally {
    await context.close();
    await rm(userDataDir, { recursive: true, force: true });
  }
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof chromium.launchPersistentContext>>['newPage']>>;

/** Every Table 1 cell's data-value equals the number at its path in metrics.json, and the text shows it. */
async function checkTable1(page: Page, m: ReportMetricsJson): Promise<number> {
  const cells = await page.$$eval('#table-1 td[data-metric]', (tds) =>
    tds.map((td) => ({ metric: td.getAttribute('data-metric')!, variant: td.getAttribute('data-variant'), paper: td.getAttribute('data-paper'), value: td.getAttribute('data-value')!, text: (td.textContent ?? '').trim() })),
  );
  const labels = Object.keys(m.variants);
  assert.equal(cells.length, m.table1.length * (labels.length + 4), 'Table 1 has one cell per metric x (variant + 4 paper columns)');
  for (const row of m.table1) {
    for (const label of labels) {
      const cell = cells.find((c) => c.metric === row.id && c.variant === label);
      assert.ok(cell, `no Table 1 cell for ${row.id} / ${label}`);
      const expected = row.values[label];
      if (expected.path) assert.equal(resolvePath(m.variants[label] as Record<string, unknown>, expected.path), expected.value, `metrics.json path ${expected.path} of ${label}`);
      if (expected.value === null) {
        assert.equal(cell.value, '', `${row.id} / ${label} should be empty`);
        continue;
      }
      assert.equal(Number(cell.value), expected.value, `${row.id} / ${label}: DOM data-value ${cell.value} vs metrics.json ${expected.value}`);
      const shown = Number(cell.text.replace(/,/g, ''));
      assert.ok(Math.abs(shown - expected.value) <= displayTolerance(expected.value, row.digits), `${row.id} / ${label}: shown '${cell.text}' vs ${expected.value}`);
    }
    for (const cell of cells.filter((c) => c.metric === row.id && c.paper)) {
      const p = row.paper[cell.paper as keyof typeof row.paper];
      assert.equal(cell.value === '' ? null : Number(cell.value), p ? p.value : null, `paper value ${row.id} / ${cell.paper}`);
    }
  }
  return cells.length;
}

/** Half a unit in the last shown digit (the table shows `digits` significant digits, integers above 1e4). */
function displayTolerance(value: number, digits: number): number {
  if (value === 0) return 0;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const unit = Math.abs(value) >= 1e4 ? 1 : 10 ** (magnitude - digits + 1);
  return 0.5 * unit * (1 + 1e-9);
}

/** Every <figure class="chart"> holds a Vega SVG with drawn data marks, unless allowed missing. */
async function checkFigures(page: Page, allowMissing: (id: string) => boolean): Promise<{ id: string; marks: number }[]> {
  const figures = await page.$$eval('figure.chart', (els) =>
    els.map((f) => ({
      id: f.getAttribute('data-chart')!,
      svg: f.querySelector('svg') !== null,
      marks: f.querySelectorAll('g.role-mark path, g.role-mark line, g.role-mark rect').length,
      width: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
    })),
  );
  assert.ok(figures.length > 0, 'the report has no figures');
  for (const f of figures) {
    if (!f.svg && allowMissing(f.id)) continue;
    assert.ok(f.svg, `figure ${f.id} has no SVG`);
    assert.ok(f.marks > 0, `figure ${f.id} has no drawn marks`);
    assert.ok(f.width > 50, `figure ${f.id} is not laid out (width ${f.width})`);
  }
  for (const prefix of ['fig1-', 'fig2-', 'fig3-', 'training-']) {
    assert.ok(figures.some((f) => f.id.startsWith(prefix) && f.svg), `no ${prefix}* figure rendered`);
  }
  return figures.map((f) => ({ id: f.id, marks: f.marks }));
}

/** Searches a latent by id, opens it, and checks its contexts (count and shading) against the embedded data. */
async function checkFeatureBrowser(page: Page, wanted: AssertReportOptions['latent']): Promise<ReportBrowserResult['latent']> {
  const data = JSON.parse((await page.locator('#fb-data').textContent()) ?? '{}') as { variants: { label: string; latents: { i: number; k: { t: number[]; a: number[] }[] }[] }[] };
  const vi = wanted ? data.variants.findIndex((v) => v.label === wanted.variant) : data.variants.findIndex((v) => v.latents.length > 0);
  assert.ok(vi >= 0, `feature browser has no data${wanted ? ` for ${wanted.variant}` : ''}`);
  const variant = data.variants[vi];
  const latent = wanted ? variant.latents.find((l) => l.i === wanted.id) : [...variant.latents].sort((a, b) => b.k.length - a.k.length)[0];
  assert.ok(latent, `latent ${wanted?.id} is not in the browser of ${variant.label}`);
  await page.selectOption('#fb-variant', String(vi));
  await page.fill('#fb-search', `#${latent.i}`);
  await page.click(`#fb-list .fb-row[data-latent="${latent.i}"]`);
  await page.waitForSelector(`#fb-detail[data-latent="${latent.i}"][data-variant="${variant.label}"]`);
  const contexts = await page.$$eval('#fb-detail .fb-context', (ps) => ps.map((p) => ({ tokens: p.querySelectorAll('.fb-tok').length, max: p.querySelectorAll('.fb-tok.fb-max').length })));
  assert.equal(contexts.length, latent.k.length, 'one rendered context per top context');
  assert.ok(contexts.length > 0, `latent ${latent.i} shows no top contexts`);
  contexts.forEach((c, j) => {
    assert.equal(c.tokens, latent.k[j].t.length, `context ${j} token count`);
    assert.equal(c.max, 1, `context ${j} marks its activating token`);
  });
  const shaded = await page.$$eval('#fb-detail .fb-tok', (spans) => spans.filter((s) => (s.getAttribute('style') ?? '').includes('background')).length);
  assert.ok(shaded > 0, 'tokens are shaded by activation');
  return { variant: variant.label, id: latent.i, contexts: contexts.length };
}
