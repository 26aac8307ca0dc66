import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { specReference } from '../../infra/dev/docs/gen-spec-reference.js';
import { projectPath } from '../../lib/core/package-root.js';

test('docs/run-spec.md is generated from the current schemas (run `npx tsx infra/dev/docs/gen-spec-reference.ts`)', () => {
  assert.equal(readFileSync(projectPath('docs', 'run-spec.md'), 'utf8'), specReference());
});
