/**
 * Building blocks shared by the variants: the affine encoder with b_dec subtracted from the
 * input (SAELens apply_b_dec_to_input), the reconstruction loss, and their analytic backwards.
 *
 * Loss convention for every variant: mse = (1/N) sum_t ||xhat_t - x_t||^2 (summed over d_in,
 * averaged over the N tokens in the loss), so all penalty coefficients are per token.
 */
import type { GraphBuilder, Val } from '../../../lib/onnx/graph-builder.js';
import type { Prng } from '../prng.js';

/**
 * Tied initialisation (Gao et al. 2024; SAELens): decoder rows are random unit directions
 * and the encoder is their transpose, so every latent starts aligned with its decoder row.
 * Returns W_enc [dIn, dSae] and W_dec [dSae, dIn], row-major.
 */
export function tiedInit(dIn: number, dSae: number, rng: Prng): { W_enc: Float32Array; W_dec: Float32Array } {
  const W_dec = new Float32Array(dSae * dIn);
  for (let i = 0; i < dSae; i++) {
    let norm = 0;
    const row = new Float64Array(dIn);
    for (let j = 0; j < dIn; j++) {
      row[j] = rng.nextNormal();
      norm += row[j] * row[j];
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < dIn; j++) W_dec[i * dIn + j] = row[j] / norm;
  }
  const W_enc = new Float32Array(dIn * dSae);
  for (let i = 0; i < dSae; i++) for (let j = 0; j < dIn; j++) W_enc[j * dSae + i] = W_dec[i * dIn + j];
  return { W_enc, W_dec };
}

/** x_c = x - b_dec; pre = x_c @ W_enc + b_enc. Shapes: x [N, d], W_enc [d, n] -> pre [N, n]. */
export function encodeAffine(g: GraphBuilder, x: Val, W_enc: Val, b_enc: Val, b_dec: Val): { xc: Val; pre: Val } {
  const xc = g.sub(x, b_dec);
  return { xc, pre: g.gemm(xc, W_enc, { c: b_enc }) };
}

export interface MseOut {
  /** recon - x, [N, d] (zeroed on masked tokens). */
  err: Val;
  mse: Val;
  /** d mse / d recon = (2/N) err. */
  dRecon: Val;
}

/**
 * mse over the tokens in the loss. `invN` is 1/N (a scalar value); `tokenMask` [N] zeroes the
 * error of tokens outside the loss (atr's special and padding positions).
 */
export function mseLoss(g: GraphBuilder, x: Val, recon: Val, invN: Val, tokenMask?: Val): MseOut {
  let err = g.sub(recon, x);
  if (tokenMask) err = g.mul(err, g.unsqueeze(tokenMask, [1]));
  const mse = g.mul(g.sumSquares(err), invN);
  const dRecon = g.mul(err, g.mul(invN, g.scalar(2)));
  return { err, mse, dRecon };
}

/**
 * Backward of pre = (x - b_dec) @ W_enc + b_enc given dpre [N, n]:
 * dW_enc = x_c^T dpre [d, n]; db_enc = sum_t dpre [n]; the b_dec part is -W_enc @ db_enc [d]
 * (b_dec is shared by all rows, so no second [N, n] x [n, d] product is needed).
 */
export function encoderBackward(g: GraphBuilder, xc: Val, dpre: Val, W_enc: Val, rows: number): { dW_enc: Val; db_enc: Val; dbDecIn: Val } {
  const dW_enc = g.gemm(xc, dpre, { transA: true });
  const db_enc = columnSums(g, dpre, rows);
  return { dW_enc, db_enc, dbDecIn: weightTimesVector(g, W_enc, db_enc, -1) };
}

/**
 * alpha * W v for W [d, n], v [n] -> [d], as a [1, n] x [n, d] Gemm: onnxruntime's MatMul with a
 * 1-D operand took about 10x longer than this product.
 */
export function weightTimesVector(g: GraphBuilder, W: Val, v: Val, alpha = 1): Val {
  return g.reshape(g.gemm(g.unsqueeze(v, [0]), W, { transB: true, alpha }), [-1]);
}

/**
 * sum_t a[t, :] for a [rows, n] -> [n], as a [1, rows] x [rows, n] product: onnxruntime's
 * ReduceSum over axis 0 of a [1024, 5120] tensor took about 1.5x as long as this MatMul.
 */
export function columnSums(g: GraphBuilder, a: Val, rows: number): Val {
  return g.reshape(g.matmul(g.floats(new Array<number>(rows).fill(1), [1, rows]), a), [-1]);
}

/** 1.0 where a > 0 (the ReLU mask), same shape as a. */
export function positive(g: GraphBuilder, a: Val): Val {
  return g.step(a, g.scalar(0));
}

/** Per-latent count of tokens where f > 0 ([n]); `tokenMask` [N] restricts to valid tokens. */
export function firedCounts(g: GraphBuilder, active: Val, rows: number, tokenMask?: Val): Val {
  if (!tokenMask) return columnSums(g, active, rows);
  return g.reshape(g.matmul(g.unsqueeze(tokenMask, [0]), active), [-1]);
}

/** Mean active latents per token: sum(fired) / N. */
export function meanL0(g: GraphBuilder, fired: Val, invN: Val): Val {
  return g.mul(g.reduceSum(fired, null), invN);
}
