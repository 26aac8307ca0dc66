/**
 * The unembedding applied to one vocabulary chunk, reduced to per-token softmax statistics so the
 * full [tokens, vocab] logits never exist (a 256k vocabulary x 2k tokens is 2 GB of float32).
 *
 * Inputs:  h_clean [N, d], h_new [R, N, d], w [C, d] (rows c0..c0+C of W_U)
 * Outputs (logits z = softcap(h w^T), per chunk):
 *   clean_max [N, 1]     max_c z_clean
 *   clean_sum [N]        sum_c exp(z_clean - clean_max)
 *   new_max   [R, N, 1], new_sum [R, N]   the same for each replacement
 *   cross     [R, N]     sum_c exp(z_clean - clean_max) * (z_clean - z_new)
 * mergeChunk() combines chunks with the usual running-max rescaling; then
 *   KL(p_clean || p_new) = cross / clean_sum - lse_clean + lse_new.
 */
import { encodeModel } from '../../lib/onnx/onnx-proto.js';
import { constTensor, makeModel, node, valueInfo } from '../../lib/onnx/graph-proto.js';

export function buildHeadChunkGraph(dModel: number, softcap: number | null): Uint8Array {
  const F = 'float32';
  const nodes = [
    node('Transpose', ['w'], ['w_t'], { perm: [1, 0] }),
    node('MatMul', ['h_clean', 'w_t'], [softcap ? 'zc_raw' : 'zc']),
    node('MatMul', ['h_new', 'w_t'], [softcap ? 'zn_raw' : 'zn']),
  ];
  if (softcap) {
    // Gemma-2: logits = c * tanh(z / c) (final_logit_softcapping).
    for (const z of ['zc', 'zn']) {
      nodes.push(node('Div', [`${z}_raw`, 'cap'], [`${z}_scaled`]), node('Tanh', [`${z}_scaled`], [`${z}_tanh`]), node('Mul', [`${z}_tanh`, 'cap'], [z]));
    }
  }
  nodes.push(
    node('ReduceMax', ['zc', 'last_axis'], ['clean_max'], { keepdims: 1 }),
    node('Sub', ['zc', 'clean_max'], ['zc_shift']),
    node('Exp', ['zc_shift'], ['ec']),
    node('ReduceSum', ['ec', 'last_axis'], ['clean_sum'], { keepdims: 0 }),
    node('ReduceMax', ['zn', 'last_axis'], ['new_max'], { keepdims: 1 }),
    node('Sub', ['zn', 'new_max'], ['zn_shift']),
    node('Exp', ['zn_shift'], ['en']),
    node('ReduceSum', ['en', 'last_axis'], ['new_sum'], { keepdims: 0 }),
    node('Sub', ['zc', 'zn'], ['z_diff']),
    node('Mul', ['ec', 'z_diff'], ['weighted']),
    node('ReduceSum', ['weighted', 'last_axis'], ['cross'], { keepdims: 0 }),
  );
  const initializer = [constTensor('last_axis', new BigInt64Array([-1n]), [1])];
  if (softcap) initializer.push(constTensor('cap', new Float32Array([softcap]), []));
  const graph = {
    name: 'tsae_head_chunk',
    node: nodes,
    initializer,
    input: [valueInfo('h_clean', F, ['N', dModel]), valueInfo('h_new', F, ['R', 'N', dModel]), valueInfo('w', F, ['C', dModel])],
    output: [
      valueInfo('clean_max', F, ['N', 1]),
      valueInfo('clean_sum', F, ['N']),
      valueInfo('new_max', F, ['R', 'N', 1]),
      valueInfo('new_sum', F, ['R', 'N']),
      valueInfo('cross', F, ['R', 'N']),
    ],
  };
  return encodeModel(makeModel(graph));
}

/** Running softmax statistics over vocabulary chunks, in float64. */
export class ChunkMerger {
  readonly cleanMax: Float64Array;
  readonly cleanSum: Float64Array;
  readonly newMax: Float64Array;
  readonly newSum: Float64Array;
  readonly cross: Float64Array;

  constructor(
    readonly tokens: number,
    readonly replacements: number,
  ) {
    this.cleanMax = new Float64Array(tokens).fill(-Infinity);
    this.cleanSum = new Float64Array(tokens);
    this.newMax = new Float64Array(tokens * replacements).fill(-Infinity);
    this.newSum = new Float64Array(tokens * replacements);
    this.cross = new Float64Array(tokens * replacements);
  }

  /** Folds one chunk's outputs in (all arrays as the graph returns them). */
  add(chunk: { cleanMax: Float32Array; cleanSum: Float32Array; newMax: Float32Array; newSum: Float32Array; cross: Float32Array }): void {
    const N = this.tokens;
    for (let n = 0; n < N; n++) {
      const m = Math.max(this.cleanMax[n], chunk.cleanMax[n]);
      const keep = Math.exp(this.cleanMax[n] - m);
      const add = Math.exp(chunk.cleanMax[n] - m);
      this.cleanSum[n] = this.cleanSum[n] * keep + chunk.cleanSum[n] * add;
      for (let r = 0; r < this.replacements; r++) this.cross[r * N + n] = this.cross[r * N + n] * keep + chunk.cross[r * N + n] * add;
      this.cleanMax[n] = m;
    }
    for (let i = 0; i < N * this.replacements; i++) {
      const m = Math.max(this.newMax[i], chunk.newMax[i]);
      this.newSum[i] = this.newSum[i] * Math.exp(this.newMax[i] - m) + chunk.newSum[i] * Math.exp(chunk.newMax[i] - m);
      this.newMax[i] = m;
    }
  }

  cleanLogSumExp(n: number): number {
    return this.cleanMax[n] + Math.log(this.cleanSum[n]);
  }

  newLogSumExp(r: number, n: number): number {
    const i = r * this.tokens + n;
    return this.newMax[i] + Math.log(this.newSum[i]);
  }

  /** KL(p_clean || p_new) at token n for replacement r, in nats. */
  kl(r: number, n: number): number {
    const i = r * this.tokens + n;
    return this.cross[i] / this.cleanSum[n] - this.cleanLogSumExp(n) + this.newLogSumExp(r, n);
  }
}
