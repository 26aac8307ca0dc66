/**
 * Checks an eval output against SAEBench's field names and JSON types, read from
 * test/fixtures/evaluate/saebench-fields.json (distilled from the JSON Schemas in the pinned
 * sae-bench wheel by infra/dev/python/make_saebench_fields.py).
 *
 * Reports three kinds of problem, each with its JSON path (`a[]` = every item of array `a`):
 * - missing: a field SAEBench requires is absent although its parent is present;
 * - type: a value whose JSON type SAEBench does not allow there (integer is a number);
 * - extra: a field SAEBench does not have (renames and typos show up here; the caller lists the
 *   additions it makes on purpose).
 */
import { readFileSync } from 'node:fs';
import { fixturePath } from './paths.js';

export interface SaeBenchField {
  path: string;
  types: string[];
  required: boolean;
  /** Free-form object: its keys are not checked (nor those of a field of type 'any'). */
  open?: boolean;
}

export interface SaeBenchFields {
  source: { package: string; version: string; wheel: string; sha256: string; schemas: Record<string, string> };
  families: Record<string, SaeBenchField[]>;
}

export function loadSaeBenchFields(): SaeBenchFields {
  return JSON.parse(readFileSync(fixturePath('evaluate', 'saebench-fields.json'), 'utf8')) as SaeBenchFields;
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeAllowed(actual: string, allowed: string[]): boolean {
  return allowed.includes('any') || allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
}

/** Every (concrete path, value) of `root`, with array items written `a[]`, objects descended. */
function* leaves(value: unknown, path: string): Generator<[string, unknown]> {
  if (path) yield [path, value];
  if (Array.isArray(value)) for (const item of value) yield* leaves(item, `${path}[]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* leaves(v, path ? `${path}.${k}` : k);
}

/** Values at a schema path, one per array item along the way; parents absent or null give none. */
function valuesAt(root: unknown, path: string): { parentPresent: boolean; value: unknown }[] {
  const steps = path.split('.').flatMap((step) => (step.endsWith('[]') ? [step.slice(0, -2), '[]'] : [step]));
  let frontier: unknown[] = [root];
  for (let i = 0; i < steps.length - 1; i++) {
    const step = steps[i];
    frontier = frontier.flatMap((node) => {
      if (step === '[]') return Array.isArray(node) ? node : [];
      return node && typeof node === 'object' && !Array.isArray(node) && (node as Record<string, unknown>)[step] !== undefined ? [(node as Record<string, unknown>)[step]] : [];
    });
  }
  const last = steps[steps.length - 1];
  if (last === '[]') return frontier.flatMap((node) => (Array.isArray(node) ? node.map((value) => ({ parentPresent: true, value })) : []));
  return frontier
    .filter((node) => node !== null && typeof node === 'object' && !Array.isArray(node))
    .map((node) => ({ parentPresent: true, value: (node as Record<string, unknown>)[last] }));
}

/** Problems of `output` against SAEBench's fields of `family`, sorted. */
export function saeBenchProblems(output: unknown, fields: SaeBenchField[]): string[] {
  const problems = new Set<string>();
  for (const field of fields) {
    for (const { value } of valuesAt(output, field.path)) {
      if (value === undefined) {
        if (field.required) problems.add(`missing ${field.path} (${field.types.join('|')})`);
      } else if (!typeAllowed(jsonType(value), field.types)) {
        problems.add(`type ${field.path}: ${jsonType(value)}, SAEBench has ${field.types.join('|')}`);
      }
    }
  }
  const known = new Set(fields.map((f) => f.path));
  const open = fields.filter((f) => f.open || f.types.includes('any')).map((f) => f.path);
  for (const [path] of leaves(output, '')) {
    if (known.has(path) || open.some((o) => path.startsWith(`${o}.`) || path.startsWith(`${o}[]`))) continue;
    // Report only the top of an unknown subtree.
    const parent = path.replace(/(\.[^.[\]]+|\[\])$/, '');
    if (parent !== path && parent !== '' && !known.has(parent)) continue;
    problems.add(`extra ${path}`);
  }
  return [...problems].sort();
}
