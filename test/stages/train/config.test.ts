import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainConfig } from '../../../schemas/train.js';

test("defaults are the paper's (lr 5e-4, 2000 warm-up steps, cosine, clip 0.1, ATR Eq. 3-6 constants)", () => {
  const cfg = TrainConfig.parse({ variant: 'atr', dSae: 65536, steps: 4883 });
  assert.equal(cfg.lr, 5e-4);
  assert.equal(cfg.warmupSteps, 2000);
  assert.equal(cfg.lrDecay, 'cosine');
  assert.equal(cfg.gradClip, 0.1);
  assert.equal(cfg.batchSize, 2048);
  if (cfg.variant !== 'atr') throw new Error('variant');
  assert.deepEqual([cfg.lambda0, cfg.targetL0, cfg.eta, cfg.alpha0, cfg.alphaBeta, cfg.resampleEvery, cfg.gamma, cfg.resamplePercentile], [0.04, 320, 0.002, 0.002, 0.95, 500, 5, 10]);
  const topk = TrainConfig.parse({ variant: 'topk', dSae: 64, steps: 10, warmupSteps: 0 });
  assert.ok(topk.variant === 'topk' && Math.abs(topk.auxKCoefficient - 1 / 32) < 1e-15);
});

test('cross-field rules name the field and the allowed values', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ variant: 'standard', dSae: 8, steps: 100 }, /warmupSteps \(2000\) must be below steps \(100\)/],
    [{ variant: 'topk', dSae: 8, steps: 100, warmupSteps: 0, k: 9 }, /k \(9\) must be at most dSae \(8\)/],
    [{ variant: 'atr', dSae: 8, steps: 100, warmupSteps: 0, batchSize: 100, seqLen: 64 }, /batchSize \(100\) must be a multiple of seqLen \(64\)/],
    [{ variant: 'gated', dSae: 8, steps: 100, warmupSteps: 0, decoderUnitNorm: false }, /needs decoderUnitNorm: true/],
    [{ variant: 'standard', dSae: 8, steps: 100, warmupSteps: 0, l1Coef: 1 }, /l1Coef/],
    [{ variant: 'relu', dSae: 8, steps: 100 }, /standard|variant/],
  ];
  for (const [input, pattern] of cases) {
    const result = TrainConfig.safeParse(input);
    assert.equal(result.success, false, JSON.stringify(input));
    assert.match(JSON.stringify(result.error?.issues), pattern);
  }
});
