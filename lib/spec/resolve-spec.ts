import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { PRESETS, PRESET_NAMES, type PresetName } from '../../schemas/presets.js';
import type { RunSpec } from '../../schemas/run-spec.js';
import { REGISTRY_MODELS } from '../../schemas/model.js';
import { packageRoot } from '../core/package-root.js';
import { applyOverrides, loadSpecFile, SpecError, validateSpec } from './load-spec.js';
import { checkSpecTokenizer } from './tokenizer-fit.js';


/** Parses `--set a.b=value` strings; values are YAML scalars (numbers, booleans, strings, lists). */
export function parseSetOptions(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of sets) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SpecError('--set', [{ field: item, message: "expected key.path=value, e.g. --set tokens.train=100000" }]);
    out[item.slice(0, eq)] = YAML.parse(item.slice(eq + 1));
  }
  return out;
}

/** The spec of a preset, with overrides, validated. Preset paths resolve against the package. */
export function presetSpec(name: string, overrides: Record<string, unknown> = {}): RunSpec {
  if (!PRESET_NAMES.includes(name as PresetName)) {
    throw new SpecError('--preset', [{ field: 'preset', message: `unknown preset '${name}'; allowed: ${PRESET_NAMES.join(', ')}` }]);
  }
  const raw = applyOverrides(structuredClone(PRESETS[name as PresetName]) as Record<string, unknown>, overrides);
  return checked(absolutizePaths(validateSpec(raw, `preset ${name}`), packageRoot()), `preset ${name}`);
}

export async function specFromFile(path: string, overrides: Record<string, unknown> = {}): Promise<RunSpec> {
  return checked(absolutizePaths(await loadSpecFile(path, overrides), process.cwd()), path);
}

/** Checks that need the files a spec names (they exist by now): the tokenizer must fit the model. */
function checked(spec: RunSpec, source: string): RunSpec {
  checkSpecTokenizer(spec, source);
  return spec;
}

/**
 * Makes local paths in a spec absolute so workers resolve them the same way wherever they run
 * (workers on other machines need the same paths, e.g. a shared mount). Checks that they exist:
 * a missing path is a validation error naming the field.
 */
export function absolutizePaths(spec: RunSpec, base: string): RunSpec {
  const issues: { field: string; message: string }[] = [];
  const fix = (value: string, field: string, isPath: (v: string) => boolean): string => {
    if (!isPath(value)) return value;
    const absolute = isAbsolute(value) ? value : resolve(base, value);
    if (!existsSync(absolute.replace(/[*?[].*$/, '')) ) issues.push({ field, message: `path '${value}' does not exist (resolved to ${absolute})` });
    return absolute;
  };
  const looksLikePath = (v: string) => v.startsWith('.') || v.startsWith('/') || v.includes('/') && !/^[\w.-]+\/[\w.-]+$/.test(v) || /\.(gguf|onnx)$/.test(v);
  const out: RunSpec = structuredClone(spec);
  out.model.source = fix(spec.model.source, 'model.source', (v) => !REGISTRY_MODELS.includes(v as never) && (looksLikePath(v) || existsSync(resolve(base, v))));
  out.corpus.source = fix(spec.corpus.source, 'corpus.source', (v) => v !== 'demo');
  out.tokenize.tokenizer = fix(spec.tokenize.tokenizer, 'tokenize.tokenizer', (v) => !['model', 'gemma2', 'gemma3'].includes(v));
  out.sae.external = spec.sae.external.map((entry, i) => ({ ...entry, path: fix(entry.path, `sae.external.${i}.path`, () => true) }));
  if (issues.length) throw new SpecError('spec', issues);
  return out;
}
