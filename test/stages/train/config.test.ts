import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainConfig } from '../../../schemas/train.js';
import { resolveTrainConfig, sparsityControlOf, targetL0Of } from '../../../stages/train/resolve-config.js';

test("defaults: the paper's constants, windows sized to the run, the paper's absolute windows expressible", () => {
  const cfg = TrainConfig.parse({ variant: 'atr', dSae: 65536, steps: 4883 });
  assert.equal(cfg.lr, 5e-4);
  assert.equal(cfg.lrDecay, 'cosine');
  assert.equal(cfg.gradClip, 0.1);
  assert.equal(cfg.batchSize, 2048);
  if (cfg.variant !== 'atr') throw new Error('variant');
  assert.deepEqual([cfg.lambda0, cfg.targetL0, cfg.eta, cfg.alpha0, cfg.alphaBeta, cfg.gamma, cfg.resamplePercentile], [0.04, 320, 0.002, 0.002, 0.95, 5, 10]);
  const resolved = resolveTrainConfig(cfg);
  if (resolved.variant !== 'atr') throw new Error('variant');
  assert.deepEqual([resolved.warmupSteps, resolved.resampleEvery, resolved.historyWindowSteps, resolved.deadWindowTokens], [488, 1221, 1221, 1_000_038]);
  assert.equal(sparsityControlOf(resolved), 'target');
  const paper = resolveTrainConfig(TrainConfig.parse({ variant: 'atr', dSae: 65536, steps: 4883, warmupSteps: 2000, resampleEvery: 500, historyWindowSteps: 500, deadWindowTokens: 10_000_000 }));
  assert.ok(paper.variant === 'atr' && paper.warmupSteps === 2000 && paper.resampleEvery === 500 && paper.historyWindowSteps === 500 && paper.deadWindowTokens === 10_000_000);
  const topk = TrainConfig.parse({ variant: 'topk', dSae: 64, steps: 10, warmupSteps: 0 });
  assert.ok(topk.variant === 'topk' && Math.abs(topk.auxKCoefficient - 1 / 32) < 1e-15);
  assert.equal(targetL0Of(topk), 32, 'k defaults to 32');
  assert.equal(targetL0Of(TrainConfig.parse({ variant: 'batchtopk', dSae: 256, steps: 10, warmupSteps: 0, targetL0: 88.6 })), 89, 'targetL0 sets k');
  const standard = TrainConfig.parse({ variant: 'standard', dSae: 64, steps: 10, warmupSteps: 0 });
  assert.equal(sparsityControlOf(standard), 'fixed', 'without a target the coefficient is fixed');
  assert.equal(sparsityControlOf(TrainConfig.parse({ variant: 'gated', dSae: 64, steps: 10, warmupSteps: 0, targetL0: 8 })), 'target');
});

test('cross-field rules name the field and the allowed values', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ variant: 'standard', dSae: 8, steps: 100, warmupSteps: 2000 }, /warmupSteps \(2000\) must be below steps \(100\)/],
    [{ variant: 'standard', dSae: 8, steps: 100, warmupSteps: 12.5 }, /absolute count must be an integer/],
    [{ variant: 'jumprelu', dSae: 8, steps: 100, sparsityControl: 'target' }, /sparsityControl 'target' needs targetL0/],
    [{ variant: 'topk', dSae: 64, steps: 100, k: 8, targetL0: 16 }, /k \(8\) and targetL0 \(16\) disagree/],
    [{ variant: 'atr', dSae: 64, steps: 100, controlMinFactor: 2 }, /controller clamp must contain 1/],
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
