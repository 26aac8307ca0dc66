/**
 * SAELens' run-time input normalisations (sae_lens 6.54 saes/sae.py `_setup_activation_normalization`),
 * per token, applied around the SAE forward: the SAE encodes the normalised input, and its
 * reconstruction is mapped back to the input's scale.
 *   constant_norm_rescale: c = sqrt(d_in) / |x|; in: x c; out: y / c.
 *   layer_norm: mu = mean(x), s = std(x - mu) with Bessel's correction (torch.std's default);
 *               in: (x - mu) / (s + 1e-5); out: y s + mu (SAELens adds eps only on the way in).
 * Computed in float64 per row, stored as float32.
 */
import type { Normalization } from './canonical-sae.js';

const LAYER_NORM_EPS = 1e-5;

export interface NormalizedRows {
  /** The normalised input, [rows, dIn]. */
  x: Float32Array;
  /** Maps a reconstruction [rows, dIn] of the normalised input back to the input's scale (a new array). */
  restore(reconstruction: Float32Array): Float32Array;
}

/** Normalises each row of x [rows, dIn]; 'none' returns x itself and an identity restore. */
export function normalizeRows(x: Float32Array, rows: number, dIn: number, kind: Normalization): NormalizedRows {
  if (kind === 'none') return { x, restore: (y) => y };
  const scale = new Float64Array(rows);
  const shift = new Float64Array(rows);
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * dIn, (r + 1) * dIn);
    if (kind === 'constant_norm_rescale') {
      const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
      // SAELens divides by |x| and yields NaN for an all-zero token; keep such a token at zero instead.
      scale[r] = norm > 0 ? Math.sqrt(dIn) / norm : 1;
      for (let j = 0; j < dIn; j++) out[r * dIn + j] = row[j] * scale[r];
    } else {
      const mu = row.reduce((s, v) => s + v, 0) / dIn;
      const variance = row.reduce((s, v) => s + (v - mu) ** 2, 0) / Math.max(dIn - 1, 1);
      const std = Math.sqrt(variance);
      shift[r] = mu;
      scale[r] = std; // restore multiplies by std (no eps), as SAELens run_time_activation_ln_out does
      for (let j = 0; j < dIn; j++) out[r * dIn + j] = (row[j] - mu) / (std + LAYER_NORM_EPS);
    }
  }
  return {
    x: out,
    restore(y) {
      const back = new Float32Array(y.length);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < dIn; j++) {
          const v = y[r * dIn + j];
          back[r * dIn + j] = kind === 'constant_norm_rescale' ? v / scale[r] : v * scale[r] + shift[r];
        }
      }
      return back;
    },
  };
}
