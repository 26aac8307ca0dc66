import type { SaeForEval } from './interfaces.js';

/**
 * A plain-JS ReLU SAE (SAELens "standard" architecture), the simple eager reference kept beside
 * the ONNX engine: tests, fixtures and benchmarks use it where no trained model is at hand.
 *   f = relu((x - b_dec) W_enc + b_enc),  xhat = f W_dec + b_dec
 */
export interface ReluSaeWeights {
  dIn: number;
  dSae: number;
  /** [dIn, dSae] */
  wEnc: Float32Array;
  /** [dSae] */
  bEnc: Float32Array;
  /** [dSae, dIn] */
  wDec: Float32Array;
  /** [dIn] */
  bDec: Float32Array;
}

export function createPlainReluSae(weights: ReluSaeWeights): SaeForEval {
  const { dIn, dSae, wEnc, bEnc, wDec, bDec } = weights;
  const encode = async (x: Float32Array, rows: number): Promise<Float32Array> => {
    const centred = new Float32Array(rows * dIn);
    for (let r = 0; r < rows; r++) for (let j = 0; j < dIn; j++) centred[r * dIn + j] = x[r * dIn + j] - bDec[j];
    const f = matmul(centred, wEnc, rows, dIn, dSae);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < dSae; i++) {
        const v = f[r * dSae + i] + bEnc[i];
        f[r * dSae + i] = v > 0 ? v : 0;
      }
    }
    return f;
  };
  return {
    dIn,
    dSae,
    encode,
    async forward(x, rows) {
      const latents = await encode(x, rows);
      const reconstruction = matmul(latents, wDec, rows, dSae, dIn);
      for (let r = 0; r < rows; r++) for (let j = 0; j < dIn; j++) reconstruction[r * dIn + j] += bDec[j];
      return { latents, reconstruction };
    },
    decoderRows: () => wDec,
  };
}

/** C[m, n] = A[m, k] B[k, n], row-major float32 with float32 accumulation (i-k-j order). */
export function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const cRow = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const bRow = p * n;
      for (let j = 0; j < n; j++) c[cRow + j] += av * b[bRow + j];
    }
  }
  return c;
}
