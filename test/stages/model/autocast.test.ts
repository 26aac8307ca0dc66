import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../helpers/paths.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { loadModelFolder, readBinTensor } from '../../../stages/model/model-folder.js';
import { createPrefixRunner, loadGraph } from '../../../stages/model/prefix-runner.js';
import { buildPrefixGraph } from '../../../stages/model/split-graph.js';
import { autocastMatMuls } from '../../../stages/model/autocast.js';

/** ||a - b|| / ||b||. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

test('autocast: every MatMul reads half casts and is cast back to float32; nothing else changes', async () => {
  const folder = await loadModelFolder(fixturePath('model', 'gemma2'));
  const prefix = buildPrefixGraph(await loadGraph(folder), folder, 1, 'float32');
  const nodes = prefix.graph.node as any[];
  const matmuls = nodes.filter((n) => n.op_type === 'MatMul').length;
  assert.ok(matmuls > 4);
  const { model, converted } = autocastMatMuls(prefix, 'float16');
  assert.equal(converted, matmuls);
  const out = model.graph.node as any[];
  const producer = new Map<string, any>(out.flatMap((n) => n.output.map((o: string) => [o, n])));
  for (const n of out.filter((n) => n.op_type === 'MatMul')) {
    for (const input of n.input) {
      const cast = producer.get(input);
      assert.equal(cast?.op_type, 'Cast', `${n.name} input ${input}`);
      assert.equal(cast.attribute[0].i, 10, 'to float16');
    }
    const back = out.find((m) => m.input.includes(n.output[0]));
    assert.equal(back.op_type, 'Cast');
    assert.equal(back.attribute[0].i, 1, 'back to float32');
  }
  const others = (list: any[]) => list.filter((n) => n.op_type !== 'MatMul' && n.op_type !== 'Cast').map((n) => n.name);
  assert.deepEqual(others(out), others(nodes));
  assert.deepEqual(model.graph.input, prefix.graph.input);
  assert.deepEqual(model.graph.output, prefix.graph.output);
  assert.equal(autocastMatMuls(prefix, 'float32').model, prefix);
});

/**
 * On CPU, onnxruntime's InsertCastTransformer runs float16 MatMuls in float32 and drops the
 * cast pairs around them, so a real float16 graph there is nearly exact. The emulated graphs
 * keep the roundings (inputs and output through the half type, float32 accumulation): that is
 * what cuBLAS' half GEMMs do, so they predict the GPU's parity.
 */
test('autocast parity on CPU against the Hugging Face float32 residuals at the last plain layer: float16 within 1e-2, bfloat16 within 2e-2, both really rounded', async () => {
  for (const arch of ['gemma2', 'gemma3', 'llama']) {
    // One folder per model: derived graphs link their model's weights file by a fixed name.
    const graphDir = await mkdtemp(join(tmpdir(), 'tsae-autocast-'));
    try {
      const dir = fixturePath('model', arch);
      const folder = await loadModelFolder(dir);
      const ref = JSON.parse(await readFile(join(dir, 'reference', 'reference.json'), 'utf8'));
      const ids = (await readBinTensor(join(dir, 'reference'), ref.inputIds)) as Int32Array;
      const [batch, seqLen] = ref.inputIds.shape;
      const resid = (await readBinTensor(join(dir, 'reference'), ref.residPost)) as Float32Array;
      // The last block's HF hidden state has the final norm applied; the one before is a plain resid_post.
      const layer = folder.meta.numLayers - 2;
      const per = batch * seqLen * folder.meta.dModel;
      const expected = resid.subarray(layer * per, (layer + 1) * per);
      const errors: Record<string, number> = {};
      for (const [compute, emulateCompute] of [['float32', false], ['float16', false], ['float16', true], ['bfloat16', true]] as const) {
        const runner = await createPrefixRunner({ folder, layer, dtype: 'float32', device: 'cpu', graphDir, compute, emulateCompute });
        errors[`${compute}${emulateCompute ? '-emulated' : ''}`] = relError((await runner.run(ids, batch, seqLen)) as Float32Array, expected);
        await runner.dispose();
      }
      assert.ok(errors.float32 < 1e-4, `${arch} ${JSON.stringify(errors)}`);
      assert.ok(errors.float16 < 1e-2, `${arch} ${JSON.stringify(errors)}`);
      assert.ok(errors['float16-emulated'] < 1e-2, `${arch} ${JSON.stringify(errors)}`);
      assert.ok(errors['bfloat16-emulated'] < 2e-2, `${arch} ${JSON.stringify(errors)}`);
      assert.ok(errors['float16-emulated'] > 100 * errors.float32, `${arch}: float16 must actually round: ${JSON.stringify(errors)}`);
      assert.ok(errors['bfloat16-emulated'] > 2 * errors['float16-emulated'], `${arch}: bfloat16 keeps 8 mantissa bits to float16's 11: ${JSON.stringify(errors)}`);
    } finally {
      await rm(graphDir, { recursive: true, force: true });
    }
  }
});

test('bfloat16 compute on cpu is refused up front (the CPU provider has no bfloat16 MatMul)', async () => {
  const folder = await loadModelFolder(fixturePath('model', 'llama'));
  await assert.rejects(createPrefixRunner({ folder, layer: 0, dtype: 'float32', device: 'cpu', compute: 'bfloat16' }), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG' && /bfloat16/.test(e.message));
});
