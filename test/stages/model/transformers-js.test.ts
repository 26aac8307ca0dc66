/**
 * The prepared folder is a valid transformers.js model: AutoModelForCausalLM.from_pretrained loads
 * it and generate runs: tiny fixtures of each architecture, and the real model(s) `npm test` prepares
 * (test/helpers/real-model.ts; Gemma 3 270M in CI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';
import type { RegistryModel } from '../../../schemas/model.js';
import { fixturePath } from '../../helpers/paths.js';
import { realModelDir, realModels } from '../../helpers/real-model.js';
import { readBinTensor } from '../../../stages/model/model-folder.js';

env.allowRemoteModels = false;

function argmax(values: ArrayLike<number>, start: number, width: number): number {
  let best = 0;
  for (let v = 1; v < width; v++) if (values[start + v] > values[start + best]) best = v;
  return best;
}

for (const arch of ['gemma2', 'gemma3', 'llama']) {
test(`${arch}: transformers.js loads the fixture folder and greedy generate equals HF greedy`, async () => {
  const dir = fixturePath('model', arch);
  const ref = JSON.parse(await readFile(join(dir, 'reference', 'reference.json'), 'utf8'));
  const ids = (await readBinTensor(join(dir, 'reference'), ref.inputIds)) as Int32Array;
  const logits = (await readBinTensor(join(dir, 'reference'), ref.logits)) as Float32Array;
  const [, seqLen] = ref.inputIds.shape;
  const V = ref.logits.shape[2];
  const model = await AutoModelForCausalLM.from_pretrained(dir, { dtype: 'fp32', device: 'cpu', local_files_only: true });
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const row = BigInt64Array.from(ids.subarray(0, seqLen), (x) => BigInt(x));
  const out = (await model.generate({
    input_ids: new Tensor('int64', row, [1, seqLen]),
    attention_mask: new Tensor('int64', new BigInt64Array(seqLen).fill(1n), [1, seqLen]),
    max_new_tokens: ref.greedyContinuation.length,
    do_sample: false,
  })) as Tensor;
  const generated = Array.from(out.data as BigInt64Array, Number);
  assert.equal(generated[seqLen], argmax(logits, (seqLen - 1) * V, V), 'first generated token = argmax of the HF logits');
  // Every later token comes through the exported KV cache, past the sliding window.
  assert.deepEqual(generated.slice(seqLen), ref.greedyContinuation, 'transformers.js greedy = HF greedy');
  assert.equal(typeof tokenizer.decode(generated.slice(seqLen)), 'string');
  await model.dispose();
});
}

/**
 * What each real model must rank first, checked through transformers.js (tokenizer, forward
 * pass, and 3 greedy steps through the exported KV cache).
 */
const EXPECTED_TOP: Record<RegistryModel, { prompt: string; top: string[] }[]> = {
  // This Q4_K_M base model ranks " the", " a", " Paris" for the exact prompt in Hugging Face
  // PyTorch as well (checked on the same GGUF): the ONNX model reproduces that ranking.
  'gemma3-270m': [
    { prompt: 'The capital of France is', top: [' the', ' a', ' Paris'] },
    { prompt: 'The Eiffel Tower is located in the city of', top: [' Paris'] },
  ],
  'smollm2-135m': [{ prompt: 'The capital of France is', top: [' Paris'] }],
};

async function topTokens(dir: string, prompts: string[], k: number): Promise<string[][]> {
  const model = await AutoModelForCausalLM.from_pretrained(dir, { dtype: 'fp32', device: 'cpu', local_files_only: true });
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const result: string[][] = [];
  for (const prompt of prompts) {
    const { logits } = (await model(tokenizer(prompt))) as { logits: Tensor };
    const [, T, V] = logits.dims;
    const data = logits.data as Float32Array;
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => data[(T - 1) * V + b] - data[(T - 1) * V + a]);
    result.push(order.slice(0, k).map((id) => tokenizer.decode([id])));
  }
  const inputs = tokenizer(prompts[0]);
  const out = (await model.generate({ ...inputs, max_new_tokens: 3, do_sample: false })) as Tensor;
  assert.ok(Number(out.dims[1]) === Number(inputs.input_ids.dims[1]) + 3, 'generate ran 3 steps through the KV cache');
  await model.dispose();
  return result;
}

for (const name of realModels()) {
test(`real model ${name}: transformers.js ranks " Paris" where Hugging Face does`, async () => {
  const expected = EXPECTED_TOP[name];
  const got = await topTokens(realModelDir(name), expected.map((e) => e.prompt), Math.max(...expected.map((e) => e.top.length)));
  expected.forEach((e, i) => assert.deepEqual(got[i].slice(0, e.top.length), e.top, e.prompt));
});
}
