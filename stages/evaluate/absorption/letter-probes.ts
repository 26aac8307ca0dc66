import { binaryScores } from '../classification-metrics.js';
import { csrMatrix, denseMatrix, selectColumns, type CsrData } from '../design-matrix.js';
import { fitL1LogisticMulti } from '../l1-logistic-regression.js';
import { fitLogisticL2, fitSklearnLogistic, positiveClassWeights } from '../logistic-regression.js';
import { LETTERS } from './words.js';

/**
 * The absorption eval's probes, as deterministic optima of SAEBench's objectives.
 *
 * SAEBench trains a 26-output linear probe with Adam on BCEWithLogits(pos_weight = n_neg/n_pos),
 * whose mean runs over all n x 26 entries, plus weight decay wd. Per letter that is the mean
 * loss over words plus (26 wd / 2) ||w||^2 (and, for the L1 probe on SAE latents,
 * l1_decay ||w||_1, since SAEBench averages the L1 norms over the 26 probes). We solve those
 * objectives to convergence instead of running 50 noisy Adam epochs.
 */
export const NUM_LETTERS = LETTERS.length;

/** Optimality tolerance of the latent-ranking L1 probe, as a share of its L1 strength. */
export const L1_PROBE_TOLERANCE = 1e-3;

export interface LinearProbes {
  /** [26, d] row-major */
  weights: Float64Array;
  /** [26] */
  biases: Float64Array;
  d: number;
  /** Letters without positive training words have no probe. */
  trained: boolean[];
}

/** Ground-truth probes on model residuals: acts [n, d], letters [n] in 0..25. */
export function fitGroundTruthProbes(acts: Float32Array, letters: Int32Array, d: number, weightDecay: number): LinearProbes {
  const X = denseMatrix(acts, letters.length, d);
  const probes: LinearProbes = { weights: new Float64Array(NUM_LETTERS * d), biases: new Float64Array(NUM_LETTERS), d, trained: [] };
  for (let l = 0; l < NUM_LETTERS; l++) {
    const y = Uint8Array.from(letters, (v) => (v === l ? 1 : 0));
    const positives = y.reduce((a, b) => a + b, 0);
    probes.trained.push(positives > 0 && positives < y.length);
    if (!probes.trained[l]) continue;
    const model = fitLogisticL2(X, y, { l2: NUM_LETTERS * weightDecay, sampleWeights: positiveClassWeights(y) });
    probes.weights.set(model.weights, l * d);
    probes.biases[l] = model.bias;
  }
  return probes;
}

/** Probe logits [n, 26] (untrained letters score -Infinity). */
export function probeScores(probes: LinearProbes, acts: Float32Array, n: number): Float64Array {
  const { d } = probes;
  const out = new Float64Array(n * NUM_LETTERS);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < NUM_LETTERS; l++) {
      if (!probes.trained[l]) {
        out[i * NUM_LETTERS + l] = -Infinity;
        continue;
      }
      let z = probes.biases[l];
      for (let j = 0; j < d; j++) z += acts[i * d + j] * probes.weights[l * d + j];
      out[i * NUM_LETTERS + l] = z;
    }
  }
  return out;
}

/** F1 of each letter's probe (score > 0) against the words' letters. */
export function letterF1(scores: Float64Array, letters: Int32Array): number[] {
  return Array.from({ length: NUM_LETTERS }, (_, l) => {
    const s = Array.from(letters, (_, i) => scores[i * NUM_LETTERS + l]);
    return binaryScores(s, Array.from(letters, (v) => (v === l ? 1 : 0))).f1;
  });
}

/**
 * L1 probes on SAE latents (SAEBench `train_sparse_multi_probe`) whose weights rank latents.
 * @returns weights [dSae, 26]
 */
export function fitL1LetterProbes(latents: CsrData, letters: Int32Array, options: { l1: number; weightDecay: number; maxIterations: number }): Float64Array {
  const n = letters.length;
  const labels = new Uint8Array(n * NUM_LETTERS);
  const weights = new Float64Array(n * NUM_LETTERS);
  for (let l = 0; l < NUM_LETTERS; l++) {
    const y = Uint8Array.from(letters, (v) => (v === l ? 1 : 0));
    const w = positiveClassWeights(y);
    for (let i = 0; i < n; i++) {
      labels[i * NUM_LETTERS + l] = y[i];
      weights[i * NUM_LETTERS + l] = y.some((v) => v) ? w[i] : 0;
    }
  }
  // The same objective in rescaled coordinates: latents / c with c their RMS, weights w' = c w,
  // l1 / c and l2 / c^2. FISTA takes one step size for the weights and the unscaled intercepts,
  // so latents of a large scale (unit-norm decoders fold ||W_dec_i||, 130 on the demo, into the
  // latents) made it crawl to its iteration cap; the optimum and the stopping rule (relative to
  // l1) are unchanged.
  let sq = 0;
  for (const v of latents.data) sq += v * v;
  const c = latents.data.length > 0 && sq > 0 ? Math.sqrt(sq / latents.data.length) : 1;
  const scaled = { ...latents, data: latents.data.map((v) => v / c) };
  const model = fitL1LogisticMulti(csrMatrix(scaled), labels, weights, NUM_LETTERS, {
    l1: options.l1 / c,
    l2: (NUM_LETTERS * options.weightDecay) / (c * c),
    maxIterations: options.maxIterations,
    tolerance: L1_PROBE_TOLERANCE,
  });
  return model.weights.map((v) => v / c);
}

/** A probe on k latents: score = latents[featureIds] . weights + bias. */
export interface KSparseProbe {
  featureIds: number[];
  weights: Float64Array;
  bias: number;
}

/** Top-k latents of letter l by signed L1-probe weight (torch.topk: largest first, ties by index). */
export function topLatents(l1Weights: Float64Array, dSae: number, letter: number, k: number): number[] {
  const ids = Array.from({ length: dSae }, (_, i) => i);
  ids.sort((a, b) => l1Weights[b * NUM_LETTERS + letter] - l1Weights[a * NUM_LETTERS + letter] || a - b);
  return ids.slice(0, k);
}

/** sklearn LogisticRegression(class_weight='balanced') on the chosen latents of dense train latents [n, dSae]. */
export function fitKSparseProbe(latents: Float32Array, n: number, dSae: number, letters: Int32Array, letter: number, featureIds: number[]): KSparseProbe {
  const X = denseMatrix(selectColumns(latents, n, dSae, featureIds), n, featureIds.length);
  const y = Uint8Array.from(letters, (v) => (v === letter ? 1 : 0));
  const model = fitSklearnLogistic(X, y, { C: 1, classWeight: 'balanced' });
  return { featureIds, weights: model.weights, bias: model.bias };
}

export function kSparseScores(probe: KSparseProbe, latents: Float32Array, n: number, dSae: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = probe.bias;
    probe.featureIds.forEach((f, k) => (z += latents[i * dSae + f] * probe.weights[k]));
    out[i] = z;
  }
  return out;
}
