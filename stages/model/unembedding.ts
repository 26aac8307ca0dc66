/**
 * The unembedding W_U [V, d] (read from the model's graph / external data) and the projection the
 * feature browser needs: for decoder rows W_dec_i, the top and bottom tokens of W_dec_i @ W_U^T
 * (the "logit lens" of a feature), computed one vocabulary block at a time.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { TsaeError } from '../../lib/core/errors.js';
import { loadModelFolder, type ModelFolder } from './model-folder.js';
import { loadGraph } from './prefix-runner.js';

export interface Unembedding {
  vocabSize: number;
  dModel: number;
  /** [vocabSize, dModel] row-major float32: row v is the unembedding vector of token v. */
  weights: Float32Array;
  /** Gemma-2 final logit soft cap, applied as c * tanh(z / c); null when absent. */
  softcap: number | null;
}

/** Reads W_U [V, d] as float32 from a prepared model folder. */
export async function readUnembedding(modelDirOrFolder: string | ModelFolder): Promise<Unembedding> {
  const folder = typeof modelDirOrFolder === 'string' ? await loadModelFolder(modelDirOrFolder) : modelDirOrFolder;
  const { meta } = folder;
  const graph = (await loadGraph(folder)).graph;
  const init = (graph.initializer ?? []).find((t: any) => t.name === meta.unembedding.initializer);
  if (!init) throw new TsaeError('CORRUPT_ARTIFACT', `${folder.onnxPath}: no initializer '${meta.unembedding.initializer}' (tsae.json unembedding)`);
  if (init.data_type !== 1) throw new TsaeError('BAD_INPUT', `${folder.onnxPath}: unembedding is data type ${init.data_type}; only float32 (1) is supported`);
  const raw = await initializerBytes(folder, init);
  const { vocabSize: V, dModel: d } = meta;
  if (raw.length !== V * d) throw new TsaeError('CORRUPT_ARTIFACT', `unembedding has ${raw.length} values, expected ${V} x ${d}`);
  let weights = raw;
  if (meta.unembedding.layout === 'model_major') {
    weights = new Float32Array(V * d);
    for (let k = 0; k < d; k++) for (let v = 0; v < V; v++) weights[v * d + k] = raw[k * V + v];
  }
  return { vocabSize: V, dModel: d, weights, softcap: meta.finalLogitSoftcapping };
}

async function initializerBytes(folder: ModelFolder, init: any): Promise<Float32Array> {
  if (init.data_location === 1) {
    const entry = (key: string) => (init.external_data ?? []).find((e: any) => e.key === key)?.value as string | undefined;
    const location = entry('location');
    if (!location) throw new TsaeError('CORRUPT_ARTIFACT', `${folder.onnxPath}: external initializer ${init.name} has no location`);
    const offset = Number(entry('offset') ?? 0);
    const length = Number(entry('length'));
    const out = new Float32Array(length / 4);
    const handle = await open(join(folder.dir, 'onnx', location), 'r');
    try {
      const view = new Uint8Array(out.buffer);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(view, done, Math.min(length - done, 1 << 30), offset + done);
        if (bytesRead === 0) throw new TsaeError('CORRUPT_ARTIFACT', `${location} ends before ${init.name} (offset ${offset}, length ${length})`);
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return out;
  }
  if (init.raw_data) {
    const bytes = init.raw_data as Uint8Array;
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  return Float32Array.from(init.float_data ?? []);
}

export interface TokenScores {
  ids: Int32Array;
  values: Float32Array;
}

/**
 * Top-k and bottom-k tokens of direction @ W_U^T for each of `count` directions [count, d]
 * (e.g. SAE decoder rows). Scores are raw logit contributions (no soft cap, no bias).
 */
export function projectOnUnembedding(unembedding: Unembedding, directions: Float32Array, count: number, k: number): { top: TokenScores[]; bottom: TokenScores[] } {
  const { vocabSize: V, dModel: d, weights } = unembedding;
  if (directions.length !== count * d) throw new TsaeError('BAD_INPUT', `directions: ${directions.length} values, expected ${count} x ${d}`);
  const top: TokenScores[] = [];
  const bottom: TokenScores[] = [];
  const scores = new Float32Array(V);
  for (let i = 0; i < count; i++) {
    const dir = directions.subarray(i * d, (i + 1) * d);
    for (let v = 0; v < V; v++) {
      let s = 0;
      const row = v * d;
      for (let j = 0; j < d; j++) s += weights[row + j] * dir[j];
      scores[v] = s;
    }
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => scores[b] - scores[a]);
    const pick = (ids: number[]) => ({ ids: Int32Array.from(ids), values: Float32Array.from(ids, (v) => scores[v]) });
    top.push(pick(order.slice(0, k)));
    bottom.push(pick(order.slice(-k).reverse()));
  }
  return { top, bottom };
}
