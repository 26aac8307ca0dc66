import type { SaeForEval } from './interfaces.js';

/**
 * The same SAE with unit-norm decoder rows: W_dec_i / ||W_dec_i|| and latent i scaled by
 * ||W_dec_i||, so every reconstruction is unchanged. SAEBench requires unit-norm decoders for
 * absorption (sae_bench/custom_saes/README: "W_dec should have unit norm decoder vectors";
 * relu_sae.py normalize_decoder), because the absorption rules read a latent's probe projection
 * as activation x cos(W_dec_i, probe). Our exports fold the training input normalisation
 * (normalizeActivations: expected-norm) into W_dec (the demo's rows have norm 130.5), which
 * left that projection 130x too small and every absorption rate at 0. Rows of norm 0 stay as
 * they are.
 */
export function withUnitNormDecoder(sae: SaeForEval): SaeForEval {
  const { dIn, dSae } = sae;
  const raw = sae.decoderRows();
  const norms = new Float32Array(dSae);
  const unit = new Float32Array(raw.length);
  let allUnit = true;
  for (let i = 0; i < dSae; i++) {
    let s = 0;
    for (let j = 0; j < dIn; j++) s += raw[i * dIn + j] * raw[i * dIn + j];
    const norm = Math.sqrt(s);
    norms[i] = norm > 0 ? norm : 1;
    if (Math.abs(norms[i] - 1) > 1e-6) allUnit = false;
    for (let j = 0; j < dIn; j++) unit[i * dIn + j] = raw[i * dIn + j] / norms[i];
  }
  if (allUnit) return sae;
  const scale = (latents: Float32Array, rows: number) => {
    const out = new Float32Array(latents.length);
    for (let r = 0; r < rows; r++) for (let i = 0; i < dSae; i++) out[r * dSae + i] = latents[r * dSae + i] * norms[i];
    return out;
  };
  return {
    dIn,
    dSae,
    encode: async (x, rows) => scale(await sae.encode(x, rows), rows),
    forward: async (x, rows) => {
      const { latents, reconstruction } = await sae.forward(x, rows);
      return { latents: scale(latents, rows), reconstruction };
    },
    decoderRows: () => unit,
  };
}
