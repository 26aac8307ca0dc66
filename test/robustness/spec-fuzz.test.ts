/**
 * A fuzzer over run specs: random mutations of the presets (deleted fields, wrong types, extreme
 * numbers, unknown keys, broken YAML). Every case must validate or fail with a SpecError that
 * names a field; never another exception, never a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { PRESETS } from '../../schemas/presets.js';
import { parseSpecText, SpecError } from '../../lib/spec/load-spec.js';
import { mulberry32 } from '../../lib/core/prng.js'; // seeded, so failures reproduce


const WEIRD_VALUES: unknown[] = [null, -1, 0, 1e300, -1e-300, Number.MAX_SAFE_INTEGER + 2, 0.5, '', 'x'.repeat(5000), '../../etc', [], {}, [1, 'a'], true, 'NaN', '∞', { nested: { deep: [null] } }];

function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (value && typeof value === 'object') return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return [prefix];
}

function mutate(spec: Record<string, unknown>, random: () => number): Record<string, unknown> {
  const out = structuredClone(spec);
  const all = paths(out).filter((p) => p.length > 0);
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const path = all[Math.floor(random() * all.length)];
    let parent: any = out;
    for (const key of path.slice(0, -1)) parent = parent?.[key];
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1];
    const choice = random();
    if (choice < 0.3) delete parent[key];
    else if (choice < 0.8) parent[key] = WEIRD_VALUES[Math.floor(random() * WEIRD_VALUES.length)];
    else parent[`unknown_${Math.floor(random() * 100)}`] = 1;
  }
  return out;
}

test('2,000 mutated specs each validate or fail with a SpecError naming fields', () => {
  const random = mulberry32(20261126);
  const presets = Object.values(PRESETS).map((p) => ({ ...p, corpus: { ...p.corpus, source: 'demo' }, model: { ...p.model, source: 'gemma3-270m' } }));
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const spec = mutate(presets[i % presets.length] as Record<string, unknown>, random);
    let text = YAML.stringify(spec);
    if (i % 50 === 0) text = text.slice(0, Math.floor(random() * text.length)); // truncated file
    try {
      parseSpecText(text, `case-${i}.yaml`);
    } catch (error) {
      assert.ok(error instanceof SpecError, `case ${i} threw ${String(error)}\n${text.slice(0, 400)}`);
      assert.ok(error.issues.length > 0 && error.issues.every((issue) => typeof issue.message === 'string' && issue.message.length > 0), `case ${i}: empty issue`);
      rejected += 1;
    }
  }
  assert.ok(rejected > 1000, `only ${rejected} of 2000 mutations were rejected: the fuzzer is not biting`);
});
