/**
 * Export: SAELens names and shapes, the normalisation scale folded into the weights, and
 * loadSae / sae.onnx computing SAELens' forward on raw activations (checked against a plain
 * float64 JavaScript implementation of each architecture).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfig, TRAIN_VARIANTS } from '../../../schemas/train.js';
import { createSession, Tensor } from '../../../lib/onnx/backend.js';
import { exportSae } from '../../../stages/train/export-sae.js';
import { loadSae } from '../../../stages/train/sae-runtime.js';
import { readSafetensors } from '../../../stages/train/safetensors.js';
import { Prng } from '../../../stages/train/prng.js';
import { variantFor } from '../../../stages/train/variants/index.js';

const D_IN = 6;
const D_SAE = 10;
const ROWS = 7;
const SCALE = 1.7;

/** Training-space forward (inputs already scaled by SCALE), float64, from the paper definitions. */
function referenceForward(variant: string, p: Record<string, Float32Array>, x: Float64Array, k: number, threshold: number) {
  const lat = new Float64Array(ROWS * D_SAE);
  const rec = new Float64Array(ROWS * D_IN);
  for (let r = 0; r < ROWS; r++) {
    const xc = Array.from({ length: D_IN }, (_, j) => x[r * D_IN + j] - p.b_dec[j]);
    const affine = (W: (j: number, i: number) => number, b: Float32Array) =>
      Array.from({ length: D_SAE }, (_, i) => xc.reduce((s, v, j) => s + v * W(j, i), 0) + b[i]);
    let f: number[];
    if (variant === 'gated') {
      const gate = affine((j, i) => p.W_enc[j * D_SAE + i], p.b_gate);
      const mag = affine((j, i) => p.W_enc[j * D_SAE + i] * Math.exp(p.r_mag[i]), p.b_mag);
      f = gate.map((g, i) => (g > 0 ? Math.max(mag[i], 0) : 0));
    } else {
      const pre = affine((j, i) => p.W_enc[j * D_SAE + i], p.b_enc);
      if (variant === 'topk') {
        const keep = new Set([...pre.keys()].sort((a, b) => pre[b] - pre[a]).slice(0, k));
        f = pre.map((v, i) => (keep.has(i) ? Math.max(v, 0) : 0));
      } else if (variant === 'jumprelu') f = pre.map((v, i) => (v > Math.exp(p.log_threshold[i]) ? v : 0));
      else if (variant === 'batchtopk') f = pre.map((v) => (v > threshold ? v : 0));
      else f = pre.map((v) => Math.max(v, 0));
    }
    for (let i = 0; i < D_SAE; i++) lat[r * D_SAE + i] = f[i];
    for (let j = 0; j < D_IN; j++) rec[r * D_IN + j] = f.reduce((s, v, i) => s + v * p.W_dec[i * D_IN + j], 0) + p.b_dec[j];
  }
  return { lat, rec };
}

function close(actual: Float32Array, expected: Float64Array, label: string, scale = 1): void {
  const maxRef = Math.max(...Array.from(expected, Math.abs), 1e-6);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e * scale) <= 2e-5 * maxRef, `${label}[${i}]: ${actual[i]} vs ${e * scale}`));
}

for (const variant of TRAIN_VARIANTS) {
  test(`${variant}: exported folder loads, folds the input scale, and matches the reference forward`, async () => {
    const cfg = TrainConfig.parse({ variant, dSae: D_SAE, steps: 10, warmupSteps: 0, ...(variant.includes('topk') ? { k: 3 } : {}), hookName: 'blocks.3.hook_resid_post', modelName: 'test-model' });
    const rng = Prng.fromSeed(11, variant);
    const params = variantFor(variant).init(D_IN, D_SAE, cfg, rng, Float32Array.from({ length: D_IN }, () => rng.nextNormal() * 0.1));
    for (const name of ['b_enc', 'b_gate', 'b_mag', 'r_mag']) if (params[name]) params[name] = params[name].map(() => rng.nextNormal() * 0.2);
    if (params.log_threshold) params.log_threshold = params.log_threshold.map(() => Math.log(0.1 + 0.3 * rng.nextFloat()));
    const variantState: Record<string, Float32Array> = variant === 'batchtopk' ? { threshold: Float32Array.of(0.2) } : {};
    const dir = await mkdtemp(join(tmpdir(), `tsae-export-${variant}-`));
    await exportSae({ cfg, dIn: D_IN, params, variantState, normScale: SCALE, inlineOnnxLimitBytes: variant === 'gated' ? 0 : undefined }, dir);

    const cfgJson = JSON.parse(await readFile(join(dir, 'cfg.json'), 'utf8'));
    const arch = { standard: 'standard', atr: 'standard', topk: 'topk', batchtopk: 'jumprelu', jumprelu: 'jumprelu', gated: 'gated' }[variant];
    assert.equal(cfgJson.architecture, arch);
    assert.equal(cfgJson.d_in, D_IN);
    assert.equal(cfgJson.d_sae, D_SAE);
    assert.equal(cfgJson.apply_b_dec_to_input, true);
    assert.equal(cfgJson.normalize_activations, 'none');
    assert.equal(cfgJson.metadata.hook_name, 'blocks.3.hook_resid_post');
    if (variant === 'topk') assert.equal(cfgJson.k, 3);
    const { tensors } = await readSafetensors(join(dir, 'sae.safetensors'));
    assert.deepEqual(tensors.W_enc.shape, [D_IN, D_SAE]);
    assert.deepEqual(tensors.W_dec.shape, [D_SAE, D_IN]);
    assert.equal((await stat(join(dir, 'sae_weights.safetensors'))).ino, (await stat(join(dir, 'sae.safetensors'))).ino, 'SAELens file name is a hard link');
    if (arch === 'jumprelu') assert.deepEqual(tensors.threshold.shape, [D_SAE]);
    if (variant === 'gated') assert.ok((await stat(join(dir, 'sae.onnx.data'))).size > 0, 'external data written');

    const raw = Float32Array.from({ length: ROWS * D_IN }, () => rng.nextNormal() * 2);
    const scaled = Float64Array.from(raw, (v) => Math.fround(v) * SCALE);
    const ref = referenceForward(variant, params, scaled, 3, 0.2);
    const sae = await loadSae(dir, { threads: 1 });
    const out = await sae.forward(raw, ROWS);
    close(out.latents, ref.lat, `${variant} latents`);
    close(out.reconstruction, ref.rec, `${variant} reconstruction (raw units)`, 1 / SCALE);
    close(await sae.encode(raw, ROWS), ref.lat, `${variant} encode`);
    assert.equal(sae.decoderRows().length, D_SAE * D_IN);
    assert.ok(sae.encoderWeights().W_enc);
    await sae.dispose();

    const onnx = await createSession(join(dir, 'sae.onnx'), { device: 'cpu', intraOpThreads: 1 });
    const direct = await onnx.run({ x: new Tensor('float32', raw, [ROWS, D_IN]) });
    close(direct.latents.data as Float32Array, ref.lat, `${variant} sae.onnx latents`);
    close(direct.reconstruction.data as Float32Array, ref.rec, `${variant} sae.onnx reconstruction`, 1 / SCALE);
  });
}

test('loadSae rejects unknown architectures and wrong shapes with the file named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-export-bad-'));
  const cfg = TrainConfig.parse({ variant: 'standard', dSae: D_SAE, steps: 10, warmupSteps: 0 });
  const params = variantFor('standard').init(D_IN, D_SAE, cfg, Prng.fromSeed(1), new Float32Array(D_IN));
  await exportSae({ cfg, dIn: D_IN, params, variantState: {}, normScale: 1 }, dir);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'matryoshka', d_in: D_IN, d_sae: D_SAE }));
  await assert.rejects(loadSae(dir), /architecture 'matryoshka' is not supported; allowed: standard, topk, jumprelu, gated/);
  await writeFile(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'standard', d_in: D_IN + 1, d_sae: D_SAE }));
  await assert.rejects(loadSae(dir), /tensor 'W_enc' must have shape/);
});
