/**
 * Post-export parity check: the full ONNX graph against the Hugging Face PyTorch outputs that
 * prepare_model.py stored in check/ for a sequence longer than the sliding window (a traced export
 * can bake in a mask that is only right inside the window). One session computes every
 * resid_post.L and the logits at once.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TsaeError } from '../../lib/core/errors.js';
import { createSession, Tensor, type Device } from '../../lib/onnx/backend.js';
import { OnnxDataType } from '../../lib/onnx/onnx-proto.js';
import { readBinTensor, type ModelFolder } from './model-folder.js';
import { emptyPastFeeds, int64Tensor, loadGraph } from './prefix-runner.js';
import { extractSubgraph, writeDerivedGraph } from './split-graph.js';

export interface ExportCheck {
  tokens: number;
  positions: number[];
  /** max over layers of ||onnx - hf|| / ||hf|| on the checked positions. */
  maxResidualRelError: number;
  logitsRelError: number;
  tolerance: number;
  passed: boolean;
}

export const EXPORT_TOLERANCE = 1e-4;

export async function verifyExport(
  folder: ModelFolder,
  options: { device?: Device; intraOpThreads?: number; graphDir?: string } = {},
): Promise<ExportCheck> {
  const check = folder.meta.check;
  if (!check) throw new TsaeError('NOT_FOUND', `${folder.dir}/tsae.json has no check section; re-run \`tsae model prepare\``);
  const { numLayers, dModel, vocabSize } = folder.meta;
  const dims = (w: number) => ['batch', 'sequence', w];
  const graph = extractSubgraph(await loadGraph(folder), {
    outputs: [
      ...folder.meta.residualTensors.map((t) => ({ tensor: t, name: t, elemType: OnnxDataType.FLOAT, dims: dims(dModel) })),
      { tensor: folder.meta.logitsTensor, name: folder.meta.logitsTensor, elemType: OnnxDataType.FLOAT, dims: dims(vocabSize) },
    ],
  });
  const checkDir = join(folder.dir, 'check');
  const ids = (await readBinTensor(checkDir, check.inputIds)) as Int32Array;
  const refResid = (await readBinTensor(checkDir, check.residPost)) as Float32Array;
  const refLogits = (await readBinTensor(checkDir, check.logits)) as Float32Array;
  const T = ids.length;
  const path = await writeDerivedGraph(folder, 'tsae-verify.onnx', graph, options.graphDir);
  const session = await createSession(path, { device: options.device ?? 'cpu', intraOpThreads: options.intraOpThreads ?? 0 });
  try {
    const out = await session.run({
      input_ids: int64Tensor(ids, 0, 1, T),
      ...emptyPastFeeds(folder, session.inputNames, 1),
      ...(session.inputNames.includes('attention_mask') ? { attention_mask: new Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]) } : {}),
    });
    const P = check.positions.length;
    let maxResid = 0;
    folder.meta.residualTensors.forEach((name, layer) => {
      const got = tail(out[name].data as Float32Array, check.positions, dModel);
      maxResid = Math.max(maxResid, relError(got, refResid.subarray(layer * P * dModel, (layer + 1) * P * dModel)));
    });
    const logitsErr = relError(tail(out[folder.meta.logitsTensor].data as Float32Array, check.positions, vocabSize), refLogits);
    return {
      tokens: T,
      positions: check.positions,
      maxResidualRelError: maxResid,
      logitsRelError: logitsErr,
      tolerance: EXPORT_TOLERANCE,
      passed: maxResid < EXPORT_TOLERANCE && logitsErr < EXPORT_TOLERANCE && numLayers === folder.meta.residualTensors.length,
    };
  } finally {
    await session.release();
    await rm(path, { force: true });
  }
}

function tail(values: Float32Array, positions: number[], width: number): Float32Array {
  const out = new Float32Array(positions.length * width);
  positions.forEach((p, i) => out.set(values.subarray(p * width, (p + 1) * width), i * width));
  return out;
}

export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
