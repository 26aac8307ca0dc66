import type { ActivationTable } from '../../../../schemas/activation-shard.js';
import type { Splicer } from '../../../../stages/evaluate/interfaces.js';
import { matmul } from '../../../../stages/evaluate/plain-relu-sae.js';

/**
 * The fixture's tiny causal model in plain JS (infra/dev/python/eval_reference_core.py TinyModel):
 *   resid_t  = E[tok_t] + P[t] + mean_{s<=t} E[tok_s]          (the "prefix", up to the hook)
 *   logits_t = (h_t + 0.5 mean_{s<=t} h_s) W_U + b_U           (the "suffix" after the hook)
 */
export interface TinyModelWeights {
  vocab: number;
  d: number;
  /** [vocab, d] */
  E: Float32Array;
  /** [maxSeq, d] */
  P: Float32Array;
  /** [d, vocab] */
  W_U: Float32Array;
  /** [vocab] */
  b_U: Float32Array;
}

export function createTinySplicer(w: TinyModelWeights): Splicer & { calls: number } {
  const logitsOf = (h: Float32Array, batch: number, seqLen: number): Float32Array => {
    const u = new Float32Array(h.length);
    for (let b = 0; b < batch; b++) {
      const running = new Float64Array(w.d);
      for (let t = 0; t < seqLen; t++) {
        const base = (b * seqLen + t) * w.d;
        for (let j = 0; j < w.d; j++) {
          running[j] += h[base + j];
          u[base + j] = h[base + j] + (0.5 * running[j]) / (t + 1);
        }
      }
    }
    const logits = matmul(u, w.W_U, batch * seqLen, w.d, w.vocab);
    for (let r = 0; r < batch * seqLen; r++) for (let v = 0; v < w.vocab; v++) logits[r * w.vocab + v] += w.b_U[v];
    return logits;
  };
  const splicer = {
    calls: 0,
    async spliceLosses({ inputIds, batch, seqLen, clean, replacements }: Parameters<Splicer['spliceLosses']>[0]) {
      splicer.calls++;
      const cleanLogp = logSoftmaxRows(logitsOf(clean, batch, seqLen), w.vocab);
      const ceOf = (logp: Float64Array) => nextTokenLoss(logp, inputIds, batch, seqLen, w.vocab);
      const replacedLogp = replacements.map((r) => logSoftmaxRows(logitsOf(r, batch, seqLen), w.vocab));
      return {
        ceClean: ceOf(cleanLogp),
        ce: replacedLogp.map(ceOf),
        kl: replacedLogp.map((logp) => klRows(cleanLogp, logp, w.vocab)),
      };
    },
    async residuals(inputIds: Int32Array, batch: number, seqLen: number) {
      const out = new Float32Array(batch * seqLen * w.d);
      for (let b = 0; b < batch; b++) {
        const running = new Float64Array(w.d);
        for (let t = 0; t < seqLen; t++) {
          const tok = inputIds[b * seqLen + t];
          const base = (b * seqLen + t) * w.d;
          for (let j = 0; j < w.d; j++) {
            running[j] += w.E[tok * w.d + j];
            out[base + j] = w.E[tok * w.d + j] + w.P[t * w.d + j] + running[j] / (t + 1);
          }
        }
      }
      return out;
    },
  };
  return splicer;
}

function logSoftmaxRows(logits: Float32Array, vocab: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / vocab; r++) {
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[r * vocab + v]);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[r * vocab + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < vocab; v++) out[r * vocab + v] = logits[r * vocab + v] - lse;
  }
  return out;
}

function nextTokenLoss(logp: Float64Array, ids: Int32Array, batch: number, seqLen: number, vocab: number): Float32Array {
  const out = new Float32Array(batch * seqLen).fill(NaN);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seqLen - 1; t++) out[b * seqLen + t] = -logp[(b * seqLen + t) * vocab + ids[b * seqLen + t + 1]];
  }
  return out;
}

function klRows(p: Float64Array, q: Float64Array, vocab: number): Float32Array {
  const out = new Float32Array(p.length / vocab);
  for (let r = 0; r < out.length; r++) {
    let kl = 0;
    for (let v = 0; v < vocab; v++) kl += Math.exp(p[r * vocab + v]) * (p[r * vocab + v] - q[r * vocab + v]);
    out[r] = kl;
  }
  return out;
}

/** An ActivationTable over [rows, seqLen] windows (rows ordered by window, then position). */
export function tableFromWindows(args: {
  activations: Float32Array;
  tokenIds: Int32Array;
  docIndex?: Int32Array;
  rows: number;
  seqLen: number;
  d: number;
  specialIds: readonly number[];
}): ActivationTable {
  const count = args.rows * args.seqLen;
  const special = new Set(args.specialIds);
  return {
    dModel: args.d,
    dtype: 'float32',
    count,
    values: args.activations,
    tokenIds: args.tokenIds,
    rowIds: Int32Array.from({ length: count }, (_, i) => Math.floor(i / args.seqLen)),
    positions: Int32Array.from({ length: count }, (_, i) => i % args.seqLen),
    docIndex: args.docIndex ?? new Int32Array(count),
    isSpecial: Uint8Array.from(args.tokenIds, (t) => (special.has(t) ? 1 : 0)),
    sourceSets: new Array(count).fill('fixture'),
  };
}
