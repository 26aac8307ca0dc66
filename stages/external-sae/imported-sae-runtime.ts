/**
 * loadImportedSae: the evaluation runtime for an SAE folder in our layout, trained (exportSae) or
 * imported (importExternalSae). It is loadSae's runtime, with SAELens' run-time input
 * normalisation wrapped around encode/forward when cfg.json asks for one (activation-norm.ts).
 * A SAELens folder that was not imported (apply_b_dec_to_input false, rescaled TopK, an
 * unsupported normalisation) is refused here rather than silently evaluated wrongly.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Device } from '../../lib/onnx/backend.js';
import { badInput } from '../../lib/core/errors.js';
import { loadSae, type SaeRuntime } from '../train/sae-runtime.js';
import { normalizeRows } from './activation-norm.js';
import type { Normalization } from './canonical-sae.js';

const RUNTIME_NORMALIZATIONS: readonly string[] = ['none', 'constant_norm_rescale', 'layer_norm'];

export async function loadImportedSae(folder: string, options: { device?: Device; threads?: number } = {}): Promise<SaeRuntime> {
  const cfgPath = join(folder, 'cfg.json');
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  } catch (error) {
    throw badInput(`${cfgPath}: cannot read SAE config (${(error as Error).message})`, { file: cfgPath });
  }
  const notImported = (field: string, value: unknown) =>
    badInput(`${cfgPath}: field '${field}' is ${JSON.stringify(value)}; import the folder first (stages/external-sae importExternalSae), which folds it into the weights`, { file: cfgPath, field });
  if (cfg.apply_b_dec_to_input === false) throw notImported('apply_b_dec_to_input', false);
  if (cfg.rescale_acts_by_decoder_norm === true) throw notImported('rescale_acts_by_decoder_norm', true);
  const normalization = String(cfg.normalize_activations ?? 'none');
  if (!RUNTIME_NORMALIZATIONS.includes(normalization)) throw notImported('normalize_activations', normalization);
  const sae = await loadSae(folder, options);
  return normalization === 'none' ? sae : withNormalization(sae, normalization as Normalization);
}

/** `sae` seeing each token normalised, with reconstructions mapped back to the token's scale. */
function withNormalization(sae: SaeRuntime, kind: Normalization): SaeRuntime {
  return {
    ...sae,
    encode: (x, rows) => sae.encode(normalizeRows(x, rows, sae.dIn, kind).x, rows),
    async forward(x, rows) {
      const normalized = normalizeRows(x, rows, sae.dIn, kind);
      const out = await sae.forward(normalized.x, rows);
      return { latents: out.latents, reconstruction: normalized.restore(out.reconstruction) };
    },
  };
}
