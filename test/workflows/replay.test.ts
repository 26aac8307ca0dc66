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

test('recorded histories cover several tokenize waves, a resume, a cancel, variant children and the nightly workflow', () => {
  assert.deepEqual(files.sort(), [
    'history-cancel--standard.json',
    'history-cancel.json',
    'history-nightly.json',
    'history-resume--atr.json',
    'history-resume--standard.json',
    'history-resume.json',
    'history-resume__tokenize-wave-1.json',
    'history-resume__tokenize-wave-2.json',
  ]);
  const events = (file: string) => JSON.stringify(JSON.parse(readFileSync(fixturePath('histories', file), 'utf8')));
  assert.match(events('history-resume.json'), /tokenize-wave-2/, 'the run tokenized in at least two waves');
  assert.match(events('history-resume.json') + events('history-resume--standard.json') + events('history-resume--atr.json'), /"signalName":"resume"/);
  assert.match(events('history-cancel.json'), /WORKFLOW_EXECUTION_CANCEL(ED|_REQUESTED)/);
});

for (const file of files) {
  test(`replays ${file} without non-determinism`, async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(fixturePath('histories', file), 'utf8')));
    await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, file.replace(/\.json$/, '').replace(/__/g, '/'));
  });
}
