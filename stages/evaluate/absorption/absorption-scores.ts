/**
 * Per-word absorption (SAEBench FeatureAbsorptionCalculator, Chanin et al. 2024).
 *
 * With p the unit ground-truth probe direction, a latent's probe projection is its activation
 * times cos(W_dec_i, p), and the word's is x . p.
 *   absorption fraction: absorbers are at most `maxAbsorbers` non-main latents with
 *     cos >= `fractionCosThreshold` and positive projection (largest first). The fraction is 0 if
 *     the main latents' projection already covers x . p or the absorbers give under
 *     `projectionShareThreshold` of it; 1 if the main latents' projection is <= 0; otherwise
 *     min(absorbers, x . p - main) / (that + main).
 *   full absorption: every main latent < 1e-8, the top-projecting latent has
 *     cos >= `fullCosThreshold`, x . p >= 0 and the top latent carries >= the share threshold.
 */
export interface AbsorptionThresholds {
  fullCosThreshold: number;
  fractionCosThreshold: number;
  projectionShareThreshold: number;
  maxAbsorbers: number;
}

export const SAEBENCH_ABSORPTION_THRESHOLDS: AbsorptionThresholds = {
  fullCosThreshold: 0.025,
  fractionCosThreshold: 0.1,
  projectionShareThreshold: 0.4,
  maxAbsorbers: 3,
};

const EPS = 1e-8;

/** cos(W_dec_i, p) for every latent: decoder [dSae, dIn], probe [dIn]. */
export function decoderProbeCosines(decoder: Float32Array, dSae: number, dIn: number, probe: ArrayLike<number>): Float64Array {
  let pNorm = 0;
  for (let j = 0; j < dIn; j++) pNorm += probe[j] * probe[j];
  pNorm = Math.sqrt(pNorm);
  const out = new Float64Array(dSae);
  for (let i = 0; i < dSae; i++) {
    let dot = 0;
    let norm = 0;
    for (let j = 0; j < dIn; j++) {
      const w = decoder[i * dIn + j];
      dot += w * probe[j];
      norm += w * w;
    }
    // torch.cosine_similarity clamps each norm at 1e-8.
    out[i] = dot / (Math.max(Math.sqrt(norm), 1e-8) * Math.max(pNorm, 1e-8));
  }
  return out;
}

export interface WordAbsorption {
  absorptionFraction: number;
  isFullAbsorption: boolean;
  probeProjection: number;
}

/**
 * @param latents  the word's SAE latents [dSae]
 * @param probeProjection  x . p with p the unit probe direction
 */
export function scoreWord(
  latents: ArrayLike<number>,
  cosines: Float64Array,
  mainIds: readonly number[],
  probeProjection: number,
  thresholds: AbsorptionThresholds,
): WordAbsorption {
  const isMain = new Set(mainIds);
  let mainProjection = 0;
  for (const i of mainIds) mainProjection += latents[i] * cosines[i];
  const absorbers: number[] = [];
  let topId = 0;
  let topProjection = -Infinity;
  for (let i = 0; i < cosines.length; i++) {
    const projection = latents[i] * cosines[i];
    if (projection > topProjection) (topProjection = projection), (topId = i);
    if (!isMain.has(i) && cosines[i] >= thresholds.fractionCosThreshold && projection > 0) absorbers.push(projection);
  }
  absorbers.sort((a, b) => b - a);
  const absorbed = absorbers.slice(0, thresholds.maxAbsorbers).reduce((a, b) => a + b, 0);
  let fraction: number;
  if (probeProjection === 0 || mainProjection >= probeProjection || absorbed / probeProjection < thresholds.projectionShareThreshold) fraction = 0;
  else if (mainProjection <= 0) fraction = 1;
  else {
    const credited = Math.min(absorbed, probeProjection - mainProjection);
    fraction = Math.min(1, Math.max(0, credited / (credited + mainProjection)));
  }
  const full =
    mainIds.every((i) => latents[i] < EPS) &&
    cosines[topId] >= thresholds.fullCosThreshold &&
    probeProjection >= 0 &&
    topProjection / probeProjection >= thresholds.projectionShareThreshold;
  return { absorptionFraction: fraction, isFullAbsorption: full, probeProjection };
}
