import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultStageContext } from '../../../lib/core/context.js';
import { writeReport } from '../../../stages/report/render-report.js';
import { assertReportRenders } from '../../helpers/report-browser.js';
import { loadReportFixture } from './report-fixture.js';

const skip = process.env.TSAE_SKIP_BROWSER_TESTS === '1' ? 'TSAE_SKIP_BROWSER_TESTS=1' : false;

test('the report of the fixture run renders in headless Chromium', { skip, timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-report-browser-'));
  const fixture = loadReportFixture();
  try {
    await writeReport(fixture, join(dir, 'report'), defaultStageContext());
    const metrics = JSON.parse(await readFile(join(dir, 'report', 'metrics.json'), 'utf8'));
    const shots = process.env.TSAE_SCREENSHOT_DIR ?? join(dir, 'screenshots');
    const result = await assertReportRenders(join(dir, 'report', 'index.html'), metrics, { screenshotDir: shots });
    assert.equal(result.screenshots.length, 3);
    // 3 variants: 3 fronts, fig2, 3 x fig1, fig3 sparsity, per-position, 3 x training.
    assert.equal(result.figures.length, 12);
    assert.ok(result.checkedCells > 50);
    // A chosen latent (requested through the temporal features) opens by search too.
    const atrLatent = fixture.variants[2].features!.latents.filter((l) => l.selectedBy === 'requested').at(-1)!.id;
    const again = await assertReportRenders(join(dir, 'report', 'index.html'), metrics, { screenshotDir: shots, latent: { variant: 'atr', id: atrLatent } });
    assert.deepEqual(again.latent.variant, 'atr');
    assert.equal(again.latent.id, atrLatent);
  } finally {
    if (!process.env.TSAE_SCREENSHOT_DIR) await rm(dir, { recursive: true, force: true });
  }
});
