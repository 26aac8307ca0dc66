/**
 * Splice-in for the evaluations (issue 4, item 5; metrics.md "Splice-in"): run the model's suffix
 * on replaced residuals (an SAE reconstruction, zeros for the ablation) and return per-token CE and
 * KL(p_clean || p_new) against the clean run.
 *
 * Memory: the suffix runs up to the final norm (`final_hidden`) for the clean and all replaced
 * residuals in one batch; the unembedding is then applied one VOCABULARY chunk at a time by
 * head-graph.ts, which reduces each chunk to per-token softmax statistics. We chunk over the
 * vocabulary rather than over tokens because the chunk of W_U is a zero-copy view, the matmul keeps
 * all N tokens (large, efficient GEMMs), and peak memory is (2R + 3) * N * C * 4 bytes for C
 * vocabulary rows, whatever the vocabulary size (262k for Gemma 3).
 */
import { createSession, Tensor, type Device, type InferenceSession } from '../../lib/onnx/backend.js';
import { TsaeError } from '../../lib/core/errors.js';
import { loadModelFolder } from './model-folder.js';
import { ChunkMerger, buildHeadChunkGraph } from './head-graph.js';
import { createPrefixRunner, createSuffixRunner, type SuffixRunner } from './prefix-runner.js';
import { readUnembedding, type Unembedding } from './unembedding.js';

export interface SpliceArgs {
  /** [batch * seqLen] token ids. */
  inputIds: ArrayLike<number>;
  batch: number;
  seqLen: number;
  /** [batch * seqLen] 1 for real tokens (default all ones); padded positions give meaningless values. */
  attentionMask?: ArrayLike<number>;
  /** [batch, seqLen, d] the clean residual at the layer (from residuals()). */
  clean: Float32Array;
  /** Each [batch, seqLen, d]: the residual to splice in (SAE reconstruction, zeros, ...). */
  replacements: Float32Array[];
}

export interface SpliceResult {
  /** [batch * seqLen] CE of the clean run predicting token t + 1; NaN at each row's last position. */
  ceClean: Float32Array;
  /** Per replacement, [batch * seqLen] CE with the replaced residual (NaN at the last position). */
  ce: Float32Array[];
  /** Per replacement, [batch * seqLen] KL(p_clean || p_new) in nats, summed over the vocabulary. */
  kl: Float32Array[];
}

export interface Splicer {
  readonly dModel: number;
  readonly vocabSize: number;
  /** Clean residual after block L: [batch, seqLen, d] float32 (for probes and as `clean`). */
  residuals(inputIds: ArrayLike<number>, batch: number, seqLen: number, attentionMask?: ArrayLike<number>): Promise<Float32Array>;
  spliceLosses(args: SpliceArgs): Promise<SpliceResult>;
  dispose(): Promise<void>;
}

export interface SplicerOptions {
  modelDir: string;
  layer: number;
  device?: Device;
  intraOpThreads?: number;
  /** Bound on the head's chunk intermediates (default 512 MiB). */
  maxChunkBytes?: number;
  graphDir?: string;
}

export async function createSplicer(options: SplicerOptions): Promise<Splicer> {
  const folder = await loadModelFolder(options.modelDir);
  const common = { folder, layer: options.layer, device: options.device ?? 'cpu', intraOpThreads: options.intraOpThreads ?? 0, graphDir: options.graphDir };
  const prefix = await createPrefixRunner({ ...common, dtype: 'float32' });
  const trunk = await createSuffixRunner({ ...common, output: 'final_hidden' });
  const unembedding = await readUnembedding(folder);
  const head = await createSession(buildHeadChunkGraph(folder.meta.dModel, unembedding.softcap), {
    device: common.device,
    intraOpThreads: common.intraOpThreads,
  });
  const maxChunkBytes = options.maxChunkBytes ?? 512 * 2 ** 20;
  return {
    dModel: folder.meta.dModel,
    vocabSize: folder.meta.vocabSize,
    residuals: (ids, batch, seqLen, mask) => prefix.run(ids, batch, seqLen, mask) as Promise<Float32Array>,
    spliceLosses: (args) => spliceLosses(args, { trunk, head, unembedding, maxChunkBytes }),
    async dispose() {
      await prefix.dispose();
      await trunk.dispose();
      await head.release();
    },
  };
}

interface SpliceParts {
  trunk: SuffixRunner;
  head: InferenceSession;
  unembedding: Unembedding;
  maxChunkBytes: number;
}

async function spliceLosses(args: SpliceArgs, parts: SpliceParts): Promise<SpliceResult> {
  const { batch, seqLen, replacements } = args;
  const { vocabSize: V, dModel: d } = parts.unembedding;
  const N = batch * seqLen;
  const R = replacements.length;
  for (const [i, x] of [args.clean, ...replacements].entries()) {
    if (x.length !== N * d) throw new TsaeError('BAD_INPUT', `splice input ${i === 0 ? 'clean' : `replacement ${i - 1}`}: ${x.length} values, expected ${batch} x ${seqLen} x ${d}`);
  }
  const hidden = await runTrunk(parts.trunk, args, d);
  const hClean = hidden.subarray(0, N * d);
  const hNew = hidden.subarray(N * d);
  const merger = new ChunkMerger(N, R);
  const chunk = Math.max(128, Math.min(V, Math.floor(parts.maxChunkBytes / ((2 * R + 3) * N * 4))));
  for (let c0 = 0; c0 < V; c0 += chunk) {
    const c1 = Math.min(V, c0 + chunk);
    const out = await parts.head.run({
      h_clean: new Tensor('float32', hClean, [N, d]),
      h_new: new Tensor('float32', hNew, [R, N, d]),
      w: new Tensor('float32', parts.unembedding.weights.subarray(c0 * d, c1 * d), [c1 - c0, d]),
    });
    const data = (name: string) => out[name].data as Float32Array;
    merger.add({ cleanMax: data('clean_max'), cleanSum: data('clean_sum'), newMax: data('new_max'), newSum: data('new_sum'), cross: data('cross') });
  }
  const ceClean = new Float32Array(N);
  const ce = replacements.map(() => new Float32Array(N));
  const kl = replacements.map(() => new Float32Array(N));
  for (let n = 0; n < N; n++) {
    const last = n % seqLen === seqLen - 1;
    const target = last ? -1 : Number(args.inputIds[n + 1]);
    ceClean[n] = last ? NaN : merger.cleanLogSumExp(n) - targetLogit(parts.unembedding, hClean, n, target);
    for (let r = 0; r < R; r++) {
      kl[r][n] = merger.kl(r, n);
      ce[r][n] = last ? NaN : merger.newLogSumExp(r, n) - targetLogit(parts.unembedding, hNew, r * N + n, target);
    }
  }
  return { ceClean, ce, kl };
}

/** final_hidden for [clean; replacements...] stacked along the batch: [(R + 1) * N, d]. */
async function runTrunk(trunk: SuffixRunner, args: SpliceArgs, d: number): Promise<Float32Array> {
  const { batch, seqLen } = args;
  const copies = args.replacements.length + 1;
  const N = batch * seqLen;
  const residual = new Float32Array(copies * N * d);
  [args.clean, ...args.replacements].forEach((x, i) => residual.set(x, i * N * d));
  const ids = new Int32Array(copies * N);
  const mask = new Int32Array(copies * N).fill(1);
  for (let i = 0; i < copies; i++) {
    for (let n = 0; n < N; n++) {
      ids[i * N + n] = Number(args.inputIds[n]);
      if (args.attentionMask) mask[i * N + n] = Number(args.attentionMask[n]);
    }
  }
  return trunk.run(residual, ids, copies * batch, seqLen, mask);
}

/** softcap(h_n . W_U[target]) in float64. */
function targetLogit(u: Unembedding, h: Float32Array, n: number, target: number): number {
  if (target < 0 || target >= u.vocabSize) throw new TsaeError('BAD_INPUT', `token id ${target} is outside the vocabulary 0..${u.vocabSize - 1}`);
  const d = u.dModel;
  let z = 0;
  for (let j = 0; j < d; j++) z += h[n * d + j] * u.weights[target * d + j];
  return u.softcap ? u.softcap * Math.tanh(z / u.softcap) : z;
}
