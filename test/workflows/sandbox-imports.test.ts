import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { projectPath } from '../../lib/core/package-root.js';

/** Workflow code runs in Temporal's deterministic sandbox: only these packages may be imported at runtime. */
const ALLOWED_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];
/** Project folders whose modules workflows may import at runtime (type-only imports are free). */
const ALLOWED_LOCAL = /^\.\/|^\.\.\/schemas\/(run-spec|pipeline|manifest|derived)\.js$|^\.\.\/lib\/core\/ui-url\.js$/;

test('workflows import no Node builtins, no heavy libraries and no stages at runtime', () => {
  const dir = projectPath('workflows');
  const problems: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(`${dir}/${file}`, 'utf8');
    for (const match of source.matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)) {
      const [, typeOnly, specifier] = match;
      if (typeOnly) continue;
      const bare = specifier.replace(/^node:/, '');
      if (builtinModules.includes(bare)) problems.push(`${file}: Node builtin '${specifier}'`);
      else if (!specifier.startsWith('.') && !ALLOWED_PACKAGES.includes(specifier)) problems.push(`${file}: package '${specifier}'`);
      else if (specifier.startsWith('.') && !ALLOWED_LOCAL.test(specifier)) problems.push(`${file}: local module '${specifier}'`);
    }
  }
  assert.deepEqual(problems, []);
});
