/**
 * Layer split of an exported language model (issue 4, item 2).
 *
 * The exported graph (infra/python-runtime/onnx_export.py) computes named residual tensors
 * `resid_post.L` (output of block L, SAELens `blocks.L.hook_resid_post`, HF `hidden_states[L+1]`)
 * and `final_hidden` (final-norm output). From it we derive, by pure graph surgery:
 *  - the prefix: input_ids, attention_mask -> residual [B, T, d] (the ancestors of
 *    resid_post.L only, so extraction never runs the later blocks or the unembedding); the
 *    optional float16 cast happens inside the graph, not in JS;
 *  - the suffix: residual [B, T, d] (+ input_ids / attention_mask, which the masks and rotary
 *    positions still read) -> final_hidden or logits.
 * Weights stay in the model's external-data file; derived graphs only reference them.
 */
import { copyFile, link, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';
import { OnnxDataType, encodeModel, type ModelObject } from '../../lib/onnx/onnx-proto.js';
import { node, valueInfo, type Dim, type ElemTypeOrCode } from '../../lib/onnx/graph-proto.js';
import { optimizeForRuntime } from './graph-rewrite.js';
import type { ModelFolder } from './model-folder.js';

const GRAPH_ATTRIBUTE = 5;
const GRAPHS_ATTRIBUTE = 10;

export interface SubgraphOptions {
  /** Tensors to compute; each becomes a graph output under `name`. */
  outputs: { tensor: string; name: string; elemType: ElemTypeOrCode; dims: Dim[] }[];
  /** Tensors cut off from their producers: they become graph inputs under `name`. */
  cuts?: { tensor: string; name: string; elemType: ElemTypeOrCode; dims: Dim[] }[];
  /** Extra nodes appended after the kept ones (they may read kept tensors). */
  extraNodes?: ModelObject[];
}

/**
 * Keeps the nodes needed for `outputs`, stopping at `cuts`. Graph inputs and initializers
 * that nothing kept reads are dropped (so ONNX Runtime never loads unused weights).
 */
export function extractSubgraph(model: ModelObject, options: SubgraphOptions): ModelObject {
  const graph = model.graph;
  const nodes: any[] = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o: string) => producer.set(o, i)));
  const cutNames = new Map((options.cuts ?? []).map((c) => [c.tensor, c.name]));
  const kept = new Set<number>();
  const usedTensors = new Set<string>();
  const stack = options.outputs.map((o) => o.tensor);
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (usedTensors.has(tensor)) continue;
    usedTensors.add(tensor);
    if (cutNames.has(tensor)) continue;
    const index = producer.get(tensor);
    if (index === undefined || kept.has(index)) continue;
    const n = nodes[index];
    if ((n.attribute ?? []).some((a: any) => a.type === GRAPH_ATTRIBUTE || a.type === GRAPHS_ATTRIBUTE)) {
      throw new TsaeError('BAD_INPUT', `Node ${n.name} (${n.op_type}) has a subgraph; split-graph supports flat graphs only`);
    }
    kept.add(index);
    for (const input of n.input ?? []) if (input) stack.push(input);
  }
  for (const o of options.outputs) {
    if (!producer.has(o.tensor) && !cutNames.has(o.tensor)) {
      throw new TsaeError('BAD_INPUT', `Tensor '${o.tensor}' is not produced by any node of the model graph`);
    }
  }
  const rename = (t: string) => cutNames.get(t) ?? t;
  const keptNodes = nodes
    .filter((_, i) => kept.has(i))
    .map((n) => ({ ...n, input: (n.input ?? []).map((t: string) => (t ? rename(t) : t)) }));
  const outputNodes = options.outputs
    .filter((o) => o.name !== o.tensor)
    .map((o) => node('Identity', [rename(o.tensor)], [o.name], {}, { name: `tsae_output_${o.name}` }));
  const producedByKept = new Set(keptNodes.flatMap((n) => n.output ?? []));
  return {
    ...model,
    graph: {
      name: `${graph.name ?? 'graph'}_tsae_subgraph`,
      node: [...keptNodes, ...(options.extraNodes ?? []), ...outputNodes],
      initializer: (graph.initializer ?? []).filter((t: any) => usedTensors.has(t.name)),
      input: [
        ...(graph.input ?? []).filter((i: any) => usedTensors.has(i.name) && !cutNames.has(i.name)),
        ...(options.cuts ?? []).map((c) => valueInfo(c.name, c.elemType, c.dims)),
      ],
      output: options.outputs.map((o) => valueInfo(o.name, o.elemType, o.dims)),
      value_info: (graph.value_info ?? []).filter((v: any) => producedByKept.has(v.name)),
    },
  };
}

export type ResidualDtype = 'float16' | 'float32';

/**
 * Prefix graph: (input_ids int64 [B,T], attention_mask int64 [B,T]) -> residual [B, T, d] in
 * `dtype`: resid_post.L, cast to float16 when asked (an Identity renames it otherwise).
 */
export function buildPrefixGraph(model: ModelObject, folder: ModelFolder, layer: number, dtype: ResidualDtype): ModelObject {
  const tensor = residualTensor(folder, layer);
  const extraNodes = [
    dtype === 'float16'
      ? node('Cast', [tensor], ['residual'], { to: OnnxDataType.FLOAT16 }, { name: 'tsae_cast_residual' })
      : node('Identity', [tensor], ['residual'], {}, { name: 'tsae_residual' }),
  ];
  const sub = extractSubgraph(model, {
    outputs: [{ tensor, name: tensor, elemType: OnnxDataType.FLOAT, dims: ['batch', 'sequence', folder.meta.dModel] }],
    extraNodes,
  });
  const elemType = dtype === 'float16' ? OnnxDataType.FLOAT16 : OnnxDataType.FLOAT;
  sub.graph.output = [valueInfo('residual', elemType, ['batch', 'sequence', folder.meta.dModel])];
  return optimizeForRuntime(sub);
}

/**
 * Suffix graph: residual float [B, T, d] (named `residual`, plus whichever of input_ids /
 * attention_mask the later blocks read) -> `final_hidden` [B, T, d] or `logits` [B, T, V].
 */
export function buildSuffixGraph(
  model: ModelObject,
  folder: ModelFolder,
  layer: number,
  output: 'final_hidden' | 'logits',
): ModelObject {
  const { meta } = folder;
  const tensor = output === 'logits' ? meta.logitsTensor : meta.finalHiddenTensor;
  const width = output === 'logits' ? meta.vocabSize : meta.dModel;
  return optimizeForRuntime(
    extractSubgraph(model, {
      outputs: [{ tensor, name: output, elemType: OnnxDataType.FLOAT, dims: ['batch', 'sequence', width] }],
      cuts: [{ tensor: residualTensor(folder, layer), name: 'residual', elemType: OnnxDataType.FLOAT, dims: ['batch', 'sequence', meta.dModel] }],
    }),
  );
}

export function residualTensor(folder: ModelFolder, layer: number): string {
  const names = folder.meta.residualTensors;
  if (!Number.isInteger(layer) || layer < 0 || layer >= names.length) {
    throw new TsaeError('BAD_CONFIG', `layer ${layer} is out of range for ${folder.dir}: allowed 0..${names.length - 1}`, {
      details: { layer, numLayers: names.length },
    });
  }
  return names[layer];
}

/**
 * Writes a derived graph where ONNX Runtime can resolve the model's external data: next to
 * onnx/model.onnx_data (default) or in `graphDir` with a hard link to (or, across file systems, a
 * copy of) the data file, for read-only model folders and tests. A symlink does not do: ONNX
 * Runtime resolves it and rejects external data outside the graph's folder. Returns the path.
 */
export async function writeDerivedGraph(folder: ModelFolder, fileName: string, model: ModelObject, graphDir?: string): Promise<string> {
  const dir = graphDir ?? join(folder.dir, 'onnx');
  await mkdir(dir, { recursive: true });
  if (graphDir && folder.dataPath) {
    const target = join(dir, 'model.onnx_data');
    const present = await lstat(target).then(
      () => true,
      () => false,
    );
    if (!present) {
      await link(folder.dataPath, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return;
        await copyFile(folder.dataPath!, target);
      });
    }
  }
  const path = join(dir, fileName);
  await writeFileAtomic(path, encodeModel(model));
  return path;
}
