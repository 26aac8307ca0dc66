/**
 * Learning works: on synthetic activations built from a known dictionary (256 unit directions in
 * 64 dims, 5 active per token, fp16 storage), every variant recovers at least 90% of the true
 * directions (some decoder row with cosine > 0.9). Hyperparameters are tuned for this problem
 * (the paper's defaults target Gemma-2B scale); sizes keep the whole file near a minute of CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfig, TRAIN_VARIANTS, type TrainConfigInput } from '../../../schemas/train.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { trainSae } from '../../../stages/train/train-sae.js';
import { loadSae } from '../../../stages/train/sae-runtime.js';
import { recoveredFraction, syntheticDictionary, syntheticTable } from './synthetic.js';

const DATA = { dIn: 64, features: 256, active: 5, tokens: 65536, seqLen: 32, seed: 1, dtype: 'float16' as const, persist: 0.5 };
const REQUIRED = 0.9;
const COMMON = { dSae: 512, batchSize: 256, steps: 1000, warmupSteps: 20, lr: 3e-3, deadWindowTokens: 50_000, checkpointEvery: 1000, logEvery: 100 };
const PER_VARIANT: Record<string, Record<string, unknown>> = {
  standard: { l1Coefficient: 3, sparsityWarmupSteps: 200 },
  topk: { k: 5 },
  batchtopk: { k: 5, lr: 1e-2, auxKCoefficient: 2, deadWindowTokens: 20_000 },
  jumprelu: { l0Coefficient: 4 / 64, bandwidth: 0.5, initThreshold: 0.5, sparsityWarmupSteps: 300, lr: 5e-3 },
  gated: { l1Coefficient: 4, sparsityWarmupSteps: 200, lr: 1e-2 },
  atr: { targetL0: 15, alpha0: 0.05, resampleEvery: 250, historyWindowSteps: 250 },
};

const dictionary = syntheticDictionary(DATA);
const table = syntheticTable(DATA, dictionary);

for (const variant of TRAIN_VARIANTS) {
  test(`${variant} recovers at least ${REQUIRED * 100}% of a known sparse dictionary`, async (t) => {
    const cfg = TrainConfig.parse({ variant, ...COMMON, ...PER_VARIANT[variant] } as TrainConfigInput);
    const dir = await mkdtemp(join(tmpdir(), `tsae-learn-${variant}-`));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const summary = await trainSae({ data: [table], config: cfg, seed: 3, device: 'cpu' }, dir, defaultStageContext());
    const sae = await loadSae(dir);
    const recovered = recoveredFraction(dictionary, DATA.features, sae.decoderRows(), cfg.dSae, DATA.dIn);
    await sae.dispose();
    t.diagnostic(`${variant}: recovered ${(recovered * 100).toFixed(1)}%, L0 ${summary.finalMetrics.l0.toFixed(1)}, EV ${summary.finalMetrics.explained_variance.toFixed(3)}`);
    assert.ok(recovered >= REQUIRED, `${variant} recovered ${(recovered * 100).toFixed(1)}% of the true directions`);
  });
}
