/**
 * Sparse codes for the TopK family. The forward decodes only the active latents (gathering
 * their decoder rows: O(N k d) instead of the dense O(N n d)), and the pseudo-gradients of the
 * kept values come from the same gathered rows. The decoder gradient, however, is a dense
 * product F^T dxhat with the code scattered into a dense [N, n] matrix: onnxruntime's CPU
 * ScatterND with reduction='add' splits work across threads without atomics (we measured wrong
 * sums with 2 threads), and a scatter-add would also make results depend on thread timing,
 * breaking exact resume. Scatters here never write one element twice.
 */
import type { GraphBuilder, Val } from '../../../lib/onnx/graph-builder.js';
import type { StepInputs } from './types.js';
import { columnSums, positive } from './common.js';

/** Decoded reconstruction and the pieces its backward needs. */
export interface SparseCode {
  recon: Val;
  /** [n] tokens each latent is active on in this batch. */
  fired: Val;
  /** Backward, built with builder `b`: d recon [N, d] -> { dW_dec [n, d], dpre [N, n] }. */
  backward(b: GraphBuilder, dRecon: Val): { dW_dec: Val; dpre: Val };
}

/**
 * Per-row top-k code: vals/idx [N, k] (vals already ReLU'd). recon = sum_j vals_j W_dec[idx_j] + b_dec,
 * computed as a batched [N,1,k] x [N,k,d] product over the gathered rows.
 */
export function rowTopKCode(g: GraphBuilder, vals: Val, idx: Val, W_dec: Val, b_dec: Val, rows: number, dIn: number, dSae: number): SparseCode {
  const gathered = g.gather(W_dec, idx, 0); // [N, k, d]
  const recon = g.add(g.reshape(g.matmul(g.unsqueeze(vals, [1]), gathered), [rows, dIn]), b_dec);
  const dense = g.scatterElements(g.zeros(g.ints([rows, dSae])), idx, vals, 1); // [N, n]
  return {
    recon,
    fired: columnSums(g, positive(g, dense), rows),
    backward(b, dRecon) {
      const dVals = b.reshape(b.matmul(gathered, b.unsqueeze(dRecon, [2])), [rows, -1]); // [N, k]
      const dPreVals = b.mul(dVals, positive(b, vals));
      const dpre = b.scatterElements(b.zeros(b.ints([rows, dSae])), idx, dPreVals, 1);
      return { dW_dec: b.gemm(dense, dRecon, { transA: true }), dpre };
    },
  };
}

/**
 * Batch-level code: m = k N (flat index into [N, n], value) pairs. The reconstruction is the
 * dense code times W_dec (rows hold different numbers of latents); the values' gradients come
 * from each pair's token gradient and decoder row.
 */
export function flatCode(g: GraphBuilder, vals: Val, flatIdx: Val, W_dec: Val, b_dec: Val, rows: number, dIn: number, dSae: number): SparseCode {
  const n = g.ints([dSae], []);
  const row = g.op1('Div', [flatIdx, n]); // [m]
  const col = g.op1('Mod', [flatIdx, n]); // [m]
  const dense = g.reshape(g.scatterElements(g.zeros(g.ints([rows * dSae])), flatIdx, vals, 0), [rows, dSae]);
  const recon = g.gemm(dense, W_dec, { c: b_dec });
  return {
    recon,
    fired: columnSums(g, positive(g, dense), rows),
    backward(b, dRecon) {
      const dVals = b.mul(b.reduceSum(b.mul(b.gather(dRecon, row, 0), b.gather(W_dec, col, 0)), [1]), positive(b, vals));
      const dFlat = b.scatterElements(b.zeros(b.ints([rows * dSae])), flatIdx, dVals, 0);
      return { dW_dec: b.gemm(dense, dRecon, { transA: true }), dpre: b.reshape(dFlat, [rows, dSae]) };
    },
  };
}

/**
 * The gradients downstream of the sparse backward, built with builder `b` and given AuxK's extra
 * gradients (or null): each If branch builds its own copy, so neither branch copies tensors.
 */
export type GradientTail = (b: GraphBuilder, aux: { dW_dec: Val; dpre: Val } | null) => Val[];

/**
 * AuxK (Gao et al. 2024, Sec. A.2) as dictionary_learning implements it (trainers/top_k.py and
 * batch_top_k.py, get_auxiliary_loss): the top min(kAux, dead) dead latents of each token (ReLU'd
 * pre-activations) reconstruct the residual e = x - xhat, held constant (stop-gradient), through
 * the decoder without b_dec; the loss is normalised by the residual's variance (OpenAI's
 * normalisation) and weighted by c (auxk_alpha, 1/32):
 *   L_aux = c * sum_t ||e_t - W_dec^T a_t||^2 / sum_t ||e_t - mean_t e||^2      (0 if that is 0)
 * We follow dictionary_learning rather than SAELens (topk_sae.py calculate_topk_aux_loss:
 * coefficient 1, unnormalised, scaled by min(dead / kAux, 1), and decoding with b_dec): the
 * normalised loss is what Gao et al.'s 1/32 was tuned for, and it does not grow with the input
 * scale. Skipped through an ONNX If when no latent is dead, so it costs nothing then. Returns the
 * loss and `tail`'s outputs (the final gradients).
 */
export function withAuxK(
  inputs: StepInputs,
  pre: Val,
  residual: Val,
  opts: { coefficient: number; kAux: number },
  tail: GradientTail,
  tailCount: number,
): { aux: Val; grads: Val[] } {
  const { g, deadMask, params, rows, dSae } = inputs;
  // With kAux > dead, the extra picks are live latents pushed to -1e30: ReLU makes them 0.
  if (opts.coefficient === 0) return { aux: g.scalar(0), grads: tail(g, null) };
  const kAux = Math.min(opts.kAux, dSae);
  const target = inputs.frozen('auxk_residual', residual, [rows, inputs.dIn]);
  const numDead = g.reduceSum(deadMask, null);
  const compute = (b: GraphBuilder): Val[] => {
    const masked = b.add(pre, b.mul(b.sub(deadMask, b.scalar(1)), b.scalar(1e30)));
    const [vals, idx] = b.topk(masked, b.ints([kAux]), 1);
    const acts = b.scatterElements(b.zeros(b.shape(pre)), idx, b.relu(vals), 1); // [N, n]
    const diff = b.sub(b.gemm(acts, params.W_dec), target);
    const variance = b.sumSquares(b.sub(target, b.op1('ReduceMean', [target, b.ints([0])], { keepdims: 1 })));
    const positiveVariance = b.greater(variance, b.scalar(0));
    const scale = b.where(positiveVariance, b.div(b.scalar(opts.coefficient), b.max(variance, b.scalar(1e-30))), b.scalar(0));
    const aux = b.mul(b.sumSquares(diff), scale);
    const dEhat = b.mul(diff, b.mul(scale, b.scalar(2)));
    const extra = { dW_dec: b.gemm(acts, dEhat, { transA: true }), dpre: b.mul(b.gemm(dEhat, params.W_dec, { transB: true }), positive(b, acts)) };
    return [aux, ...tail(b, extra)];
  };
  const skip = (b: GraphBuilder): Val[] => [b.scalar(0), ...tail(b, null)];
  const float = g.floatType;
  const [aux, ...grads] = g.ifElse(g.greater(numDead, g.scalar(0)), new Array(tailCount + 1).fill(float), compute, skip);
  return { aux, grads };
}
