import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainConfig } from '../../../schemas/train.js';
import { learningRate, scheduleTable, sparsityScale } from '../../../stages/train/schedule.js';
import { nextRunLength } from '../../../stages/train/train-sae.js';

test('learning rate: linear warm-up, then cosine / linear / constant to lrEndFactor', () => {
  const base = { variant: 'standard', dSae: 8, steps: 110, warmupSteps: 10, lr: 1e-3 } as const;
  const cosine = TrainConfig.parse(base);
  assert.equal(learningRate(cosine, 0), 1e-4);
  assert.equal(learningRate(cosine, 9), 1e-3);
  assert.ok(Math.abs(learningRate(cosine, 60) - 5e-4) < 1e-12, 'half-way through the decay');
  assert.ok(learningRate(cosine, 109) < 1e-6);
  const linear = TrainConfig.parse({ ...base, lrDecay: 'linear', lrEndFactor: 0.1 });
  assert.ok(Math.abs(learningRate(linear, 60) - 5.5e-4) < 1e-12);
  assert.equal(learningRate(TrainConfig.parse({ ...base, lrDecay: 'none' }), 100), 1e-3);
});

test('schedule rows hold Adam bias-corrected step sizes and the sparsity warm-up', () => {
  const cfg = TrainConfig.parse({ variant: 'standard', dSae: 8, steps: 100, warmupSteps: 0, lr: 1e-3, lrDecay: 'none', sparsityWarmupSteps: 4 });
  const table = scheduleTable(cfg, 0, 2);
  assert.ok(Math.abs(table[0] - 1e-3 / (1 - 0.9)) < 1e-9);
  assert.ok(Math.abs(table[1] - Math.sqrt(1 - 0.999)) < 1e-7);
  assert.equal(table[2], 0.25);
  assert.ok(Math.abs(table[3] - 1e-3 / (1 - 0.81)) < 1e-9);
  assert.equal(sparsityScale(cfg, 10), 1);
});

test('run boundaries depend only on the step: multiples of stepsPerRun, checkpointEvery, resampleEvery', () => {
  const cfg = TrainConfig.parse({ variant: 'atr', dSae: 8, steps: 30, warmupSteps: 0, stepsPerRun: 8, checkpointEvery: 12, resampleEvery: 10 });
  const runs: number[] = [];
  for (let step = 0; step < cfg.steps; step += nextRunLength(cfg, step)) runs.push(nextRunLength(cfg, step));
  assert.deepEqual(runs, [8, 2, 2, 4, 4, 4, 6]);
});
