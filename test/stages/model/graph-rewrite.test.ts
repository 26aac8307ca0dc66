import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath } from '../../helpers/paths.js';
import { loadModelFolder } from '../../../stages/model/model-folder.js';
import { loadGraph } from '../../../stages/model/prefix-runner.js';
import { buildPrefixGraph, buildSuffixGraph, extractSubgraph } from '../../../stages/model/split-graph.js';
import { rewriteReciprocalMul, rewriteTanhGelu } from '../../../stages/model/graph-rewrite.js';
import { OnnxDataType } from '../../../lib/onnx/onnx-proto.js';

const ops = (model: any) => model.graph.node.map((n: any) => n.op_type) as string[];
const count = (list: string[], op: string) => list.filter((o) => o === op).length;

test('rewrites fire on the exported patterns (numerics are covered by the parity tests)', async () => {
  const folder = await loadModelFolder(fixturePath('model', 'gemma3'));
  const full = await loadGraph(folder);
  const raw = extractSubgraph(full, {
    outputs: [{ tensor: folder.meta.finalHiddenTensor, name: 'out', elemType: OnnxDataType.FLOAT, dims: ['b', 's', 32] }],
  });
  const before = ops(raw);
  const gelus = count(before, 'Tanh');
  assert.ok(gelus === 3 && count(before, 'Reciprocal') > 0);
  const rms = ops(rewriteReciprocalMul(raw));
  assert.equal(count(rms, 'Reciprocal'), 0);
  assert.equal(count(rms, 'Div'), count(before, 'Div') + count(before, 'Reciprocal'));
  const gelu = rewriteTanhGelu(raw);
  assert.equal(count(ops(gelu), 'FastGelu'), gelus);
  assert.equal(count(ops(gelu), 'Tanh'), 0);
  assert.equal(ops(gelu).length, before.length - 7 * gelus);
  assert.ok(gelu.opset_import.some((o: any) => o.domain === 'com.microsoft'));
  // The derived graphs get both; the llama fixture (SiLU) keeps its activation untouched.
  assert.ok(ops(buildPrefixGraph(full, folder, 2, 'float32')).includes('FastGelu'));
  const llama = await loadModelFolder(fixturePath('model', 'llama'));
  assert.ok(!ops(buildSuffixGraph(await loadGraph(llama), llama, 0, 'logits')).includes('FastGelu'));
});
