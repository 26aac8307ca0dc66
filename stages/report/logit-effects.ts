/**
 * Direct logit effect of a latent: its decoder direction read through the unembedding,
 * W_dec[i] @ W_U^T (a [vocab] vector; the final norm is ignored, as in SAE dashboards), and the
 * tokens it raises and lowers most. For a Gemma vocabulary (256k x 2304) this is ~1.2 GFLOP
 * per latent, so the fast path is one onnxruntime graph (Gemm + TopK, only the top/bottom k
 * leave the runtime); `logitEffectsReference` is the plain loop it is tested against.
 */
import { GraphBuilder } from '../../lib/onnx/graph-builder.js';
import { createSession, Tensor, type Device } from '../../lib/onnx/backend.js';
import { badInput } from '../../lib/core/errors.js';

export interface LogitEffect {
  /** [k] token ids with the largest logit change, largest first. */
  upIds: number[];
  upValues: number[];
  /** [k] token ids with the most negative change, most negative first. */
  downIds: number[];
  downValues: number[];
}

export interface LogitEffectsInput {
  /** [latents, dModel] decoder rows of the latents of interest. */
  directions: Float32Array;
  latents: number;
  /** [vocab, dModel] unembedding. */
  unembed: Float32Array;
  vocab: number;
  dModel: number;
  k: number;
}

/** Latents per onnxruntime run: bounds the [batch, vocab] logits intermediate (64 x 256k x 4 B = 64 MB). */
const LATENTS_PER_RUN = 64;

/** Top/bottom-k logit effects through onnxruntime (Gemm with transB, then TopK on both signs). */
export async function logitEffects(input: LogitEffectsInput, options: { device?: Device; intraOpThreads?: number } = {}): Promise<LogitEffect[]> {
  checkSizes(input);
  const k = Math.min(input.k, input.vocab);
  if (input.latents === 0 || k === 0) return Array.from({ length: input.latents }, () => ({ upIds: [], upValues: [], downIds: [], downValues: [] }));
  const g = new GraphBuilder('float32');
  const dirs = g.input('directions', ['batch', input.dModel]);
  const wu = g.input('unembed', [input.vocab, input.dModel]);
  const logits = g.gemm(dirs, wu, { transB: true });
  const kk = g.ints([k]);
  const [upV, upI] = g.op('TopK', [logits, kk], { axis: -1, largest: 1, sorted: 1 }, 2);
  const [downV, downI] = g.op('TopK', [logits, kk], { axis: -1, largest: 0, sorted: 1 }, 2);
  g.output('up_values', upV);
  g.output('up_ids', upI, 'int64');
  g.output('down_values', downV);
  g.output('down_ids', downI, 'int64');
  const session = await createSession(g.toModel('logit_effects'), { device: options.device ?? 'cpu', intraOpThreads: options.intraOpThreads ?? 0 });
  try {
    const unembed = new Tensor('float32', input.unembed, [input.vocab, input.dModel]);
    const out: LogitEffect[] = [];
    for (let start = 0; start < input.latents; start += LATENTS_PER_RUN) {
      const n = Math.min(LATENTS_PER_RUN, input.latents - start);
      const dirs = new Tensor('float32', input.directions.subarray(start * input.dModel, (start + n) * input.dModel), [n, input.dModel]);
      const r = await session.run({ directions: dirs, unembed });
      const uv = r.up_values.data as Float32Array;
      const ui = r.up_ids.data as BigInt64Array;
      const dv = r.down_values.data as Float32Array;
      const di = r.down_ids.data as BigInt64Array;
      for (let j = 0; j < n; j++) {
        const s = j * k;
        out.push({
          upIds: Array.from(ui.subarray(s, s + k), Number),
          upValues: Array.from(uv.subarray(s, s + k)),
          downIds: Array.from(di.subarray(s, s + k), Number),
          downValues: Array.from(dv.subarray(s, s + k)),
        });
      }
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The same in plain loops (float64 accumulation); the reference for tests. */
export function logitEffectsReference(input: LogitEffectsInput): LogitEffect[] {
  checkSizes(input);
  const { dModel, vocab } = input;
  const k = Math.min(input.k, vocab);
  const out: LogitEffect[] = [];
  for (let l = 0; l < input.latents; l++) {
    const logits = new Float64Array(vocab);
    for (let v = 0; v < vocab; v++) {
      let acc = 0;
      for (let d = 0; d < dModel; d++) acc += input.directions[l * dModel + d] * input.unembed[v * dModel + d];
      logits[v] = acc;
    }
    const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
    const up = order.slice(0, k);
    const down = order.slice(-k).reverse();
    out.push({ upIds: up, upValues: up.map((i) => logits[i]), downIds: down, downValues: down.map((i) => logits[i]) });
  }
  return out;
}

function checkSizes(input: LogitEffectsInput): void {
  if (input.directions.length !== input.latents * input.dModel) {
    throw badInput(`logit effects: directions has ${input.directions.length} values, expected latents x dModel = ${input.latents} x ${input.dModel}`);
  }
  if (input.unembed.length !== input.vocab * input.dModel) {
    throw badInput(`logit effects: unembed (W_U) has ${input.unembed.length} values, expected vocab x dModel = ${input.vocab} x ${input.dModel}`);
  }
}
