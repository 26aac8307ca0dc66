/**
 * Exact resume: 2N steps straight equal N steps, an abort, and a resume for the rest:
 * byte-identical exported weights and checkpoint tensors, and one consistent metrics history.
 * atr exercises the adaptive coefficients, the statistics window and resampling; batchtopk the
 * threshold EMA, dead-latent counters and AuxK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfig, type TrainConfigInput } from '../../../schemas/train.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { trainSae } from '../../../stages/train/train-sae.js';
import { readMetrics } from '../../../stages/train/metrics-log.js';
import { syntheticTable } from './synthetic.js';

const N = 12;

const CONFIGS: Record<string, TrainConfigInput> = {
  atr: { variant: 'atr', dSae: 48, steps: 2 * N, batchSize: 32, seqLen: 8, warmupSteps: 3, checkpointEvery: N, stepsPerRun: 4, resampleEvery: 8, historyWindowSteps: 8, resampleRule: 'percentile', targetL0: 6, lambda0: 0.5, alpha0: 0.1, lr: 1e-2 },
  batchtopk: { variant: 'batchtopk', dSae: 48, steps: 2 * N, batchSize: 32, warmupSteps: 3, checkpointEvery: N, stepsPerRun: 5, k: 3, deadWindowTokens: 64, thresholdStartStep: 0.25, lr: 1e-2 },
  // Two epochs over the data (24 x 96 tokens > 1,260), a two-shard mixing buffer, the norm filter and the L1 controller.
  standard: { variant: 'standard', dSae: 48, steps: 2 * N, batchSize: 96, warmupSteps: 0.1, checkpointEvery: N, stepsPerRun: 5, targetL0: 5, lr: 1e-2, shuffleBufferMb: 0.05, maxNormMultiple: 2 },
};

for (const [name, input] of Object.entries(CONFIGS)) {
  test(`${name}: ${N} steps + abort + resume equals ${2 * N} steps straight, byte for byte`, async (t) => {
    const cfg = TrainConfig.parse(input);
    const tables = [0, 1].map((i) => syntheticTable({ dIn: 16, features: 64, active: 3, tokens: 640, seqLen: 8, seed: 20 + i, dtype: 'float16', persist: 0.5 }));
    const root = await mkdtemp(join(tmpdir(), `tsae-resume-${name}-`));
    t.after(() => rm(root, { recursive: true, force: true }));
    const straight = join(root, 'straight');
    const resumed = join(root, 'resumed');
    const run = (outDir: string, ctx = defaultStageContext()) => trainSae({ data: tables, config: cfg, seed: 5, device: 'cpu' }, outDir, ctx);

    const full = await run(straight);
    assert.equal(full.resumedFromStep, null);

    // Abort after the first run past the checkpoint at N, so work after the checkpoint is lost.
    const controller = new AbortController();
    const ctx = defaultStageContext({ signal: controller.signal, onProgress: (p) => p.done > N && controller.abort(new Error('killed')) });
    await assert.rejects(run(resumed, ctx), /killed/);
    const partial = await readMetrics(resumed);
    assert.ok(partial.some((l) => l.step > N), 'the aborted attempt got past the checkpoint');
    const second = await run(resumed);
    assert.equal(second.resumedFromStep, N);
    assert.equal(second.steps, 2 * N);

    for (const file of ['sae.safetensors', 'cfg.json', 'sae.onnx']) {
      assert.ok((await readFile(join(straight, file))).equals(await readFile(join(resumed, file))), `${file} differs`);
    }
    const tensors = (dir: string) => readFile(join(dir, 'checkpoint', `step-${String(2 * N).padStart(8, '0')}`, 'tensors.bin'));
    assert.ok((await tensors(straight)).equals(await tensors(resumed)), 'final checkpoint tensors differ');
    const a = await readMetrics(straight);
    const b = await readMetrics(resumed);
    assert.deepEqual(b.map((l) => l.step), Array.from({ length: 2 * N }, (_, i) => i + 1));
    assert.deepEqual(b.map((l) => l.loss), a.map((l) => l.loss));
    const again = await run(resumed);
    assert.equal(again.resumedFromStep, 2 * N, 'a finished folder is not trained again');
    assert.deepEqual(again.finalMetrics, second.finalMetrics);
    assert.deepEqual(second.mechanisms, full.mechanisms, 'the mechanism log survives the resume');
    if (name === 'atr') {
      assert.ok(full.resampledLatents > 0, 'resampling happened');
      assert.ok(full.mechanisms.resampling!.events > 0 && full.mechanisms.resampling!.latents === full.resampledLatents);
      assert.deepEqual(b.map((l) => l.lambda_t), a.map((l) => l.lambda_t));
    }
    if (name === 'standard') {
      assert.ok(full.mechanisms.sparsity.lambda!.final !== full.mechanisms.sparsity.lambda!.initial, 'the controller moved lambda');
      assert.ok(full.mechanisms.outliers.maxNorm !== null, 'a norm cut was set');
    }
    if (name === 'batchtopk') assert.ok(full.mechanisms.threshold!.final > 0, 'the threshold started');
  });
}

test('a checkpoint from another config or seed is refused, not silently resumed', async (t) => {
  const cfg = TrainConfig.parse({ variant: 'standard', dSae: 16, steps: 4, batchSize: 16, warmupSteps: 0, checkpointEvery: 2 });
  const tables = [syntheticTable({ dIn: 8, features: 16, active: 2, tokens: 128, seqLen: 8, seed: 1 })];
  const dir = await mkdtemp(join(tmpdir(), 'tsae-resume-mismatch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await trainSae({ data: tables, config: cfg, seed: 1, device: 'cpu' }, dir, defaultStageContext());
  await assert.rejects(trainSae({ data: tables, config: cfg, seed: 2, device: 'cpu' }, dir, defaultStageContext()), /belongs to another config, seed or data/);
});
