/**
 * Validation of a spec's external SAEs at the CLI edge (before anything starts): every folder is
 * read and checked against the spec (hook vs layer, dtype, shapes; d_in vs d_model when the
 * model is a local folder). A problem exits 2 naming the entry's field and the file. d_in is
 * checked again once the model is prepared (the import stage).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTRY_MODEL_FACTS, type RegistryModel } from '../../schemas/model.js';
import type { RunSpec } from '../../schemas/run-spec.js';
import { SpecError } from '../../lib/spec/load-spec.js';
import { inspectExternalSae } from '../../stages/external-sae/inspect-external-sae.js';

export async function checkExternalSaes(spec: RunSpec, source: string): Promise<RunSpec> {
  const issues: { field: string; message: string }[] = [];
  const dModel = folderDModel(spec.model.source);
  for (const [i, entry] of spec.sae.external.entries()) {
    try {
      await inspectExternalSae(entry.path, { format: entry.format, hookName: entry.hookName, layer: spec.model.layer, dModel: dModel ?? undefined });
    } catch (error) {
      issues.push({ field: `sae.external.${i}`, message: (error as Error).message });
    }
  }
  if (issues.length) throw new SpecError(source, issues);
  return spec;
}

/** d_model of a registry model or a local model folder (config.json hidden_size), or null when only preparation tells. */
function folderDModel(source: string): number | null {
  const registry = REGISTRY_MODEL_FACTS[source as RegistryModel];
  if (registry) return registry.dModel;
  const config = join(source, 'config.json');
  if (!existsSync(config)) return null;
  try {
    const parsed = JSON.parse(readFileSync(config, 'utf8')) as { hidden_size?: number; text_config?: { hidden_size?: number } };
    return parsed.hidden_size ?? parsed.text_config?.hidden_size ?? null;
  } catch {
    return null;
  }
}
