/**
 * Replays recorded workflow histories (test/fixtures/histories, made by
 * infra/dev/fixtures/record-histories.ts) against the current workflow code: a change that would
 * break running workflows (non-determinism) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowsPath } from '../../infra/worker/worker.js';
import { fixturePath } from '../helpers/paths.js';

const files = readdirSync(fixturePath('histories')).filter((f) => f.endsWith('.json'));

test('recorded histories exist for the pipeline, a variant child and the nightly workflow', () => {
  assert.deepEqual(files.sort(), ['history-nightly.json', 'history-smoke--atr.json', 'history-smoke.json']);
});

for (const file of files) {
  test(`replays ${file} without non-determinism`, async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(fixturePath('histories', file), 'utf8')));
    await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, file.replace(/\.json$/, ''));
  });
}
