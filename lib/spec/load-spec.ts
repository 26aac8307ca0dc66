import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { RunSpec } from '../../schemas/run-spec.js';
import { TsaeError } from '../core/errors.js';

export interface SpecIssue {
  /** Dotted path of the field, e.g. `sae.variants.1.variant`. */
  field: string;
  message: string;
  /** 1-based line in the YAML file, when the field (or its parent) is there. */
  line?: number;
}

/** Thrown when a spec is invalid; lists every bad field (the CLI prints them and exits 2). */
export class SpecError extends TsaeError {
  constructor(
    readonly source: string,
    readonly issues: SpecIssue[],
  ) {
    super('BAD_CONFIG', formatIssues(source, issues), { retryable: false, details: { source, issues } });
    this.name = 'SpecError';
  }
}

function formatIssues(source: string, issues: SpecIssue[]): string {
  const lines = issues.map((i) => `  ${source}${i.line ? `:${i.line}` : ''}: ${i.field || '(root)'}: ${i.message}`);
  return `Invalid run spec (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

/** Reads and validates a YAML (or JSON) spec file; errors name the field, the line and the reason. */
export async function loadSpecFile(path: string, overrides: Record<string, unknown> = {}): Promise<RunSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TsaeError('NOT_FOUND', `Cannot read spec ${path}: ${(error as Error).message}`);
  }
  return parseSpecText(text, path, overrides);
}

export function parseSpecText(text: string, source: string, overrides: Record<string, unknown> = {}): RunSpec {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length) {
    throw new SpecError(
      source,
      document.errors.map((e) => ({ field: '', message: e.message.split('\n')[0], line: e.linePos?.[0]?.line })),
    );
  }
  const raw = document.toJS() as unknown;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError(source, [{ field: '', message: 'expected a mapping at the top level' }]);
  return validateSpec(applyOverrides(raw as Record<string, unknown>, overrides), source, (path) => lineOf(document.contents, path, lineCounter));
}

/** Validates a spec object; `lineFor` maps a field path to a source line when known. */
export function validateSpec(raw: unknown, source: string, lineFor: (path: PropertyKey[]) => number | undefined = () => undefined): RunSpec {
  const parsed = RunSpec.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new SpecError(source, parsed.error.issues.map((issue) => toSpecIssue(issue, lineFor)));
}

function toSpecIssue(issue: z.core.$ZodIssue, lineFor: (path: PropertyKey[]) => number | undefined): SpecIssue {
  const path = issue.path;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_value' && 'values' in issue) message = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return { field: path.map(String).join('.'), message, line: lineFor(path) };
}

function lineOf(root: unknown, path: PropertyKey[], counter: LineCounter): number | undefined {
  let node = root as YamlNode | null;
  let line: number | undefined = rangeLine(node, counter);
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => String((item.key as { value?: unknown })?.value ?? item.key) === String(key));
      if (!pair) break;
      line = rangeLine(pair.key as YamlNode, counter) ?? line;
      node = pair.value as YamlNode | null;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key] as YamlNode | null;
      line = rangeLine(node, counter) ?? line;
    } else break;
  }
  return line;
}

function rangeLine(node: YamlNode | null | undefined, counter: LineCounter): number | undefined {
  const start = node && 'range' in node && node.range ? node.range[0] : undefined;
  return start === undefined ? undefined : counter.linePos(start).line;
}

/** Applies `--set a.b.c=value` overrides (values parsed as YAML scalars) to a raw spec. */
export function applyOverrides(raw: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const [dotted, value] of Object.entries(overrides)) {
    const keys = dotted.split('.');
    let target: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]] = value;
  }
  return out;
}
