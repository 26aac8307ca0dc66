import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainConfig } from '../../../schemas/train.js';
import { controlFactor, learningRate, scheduleTable, sparsityScale } from '../../../stages/train/schedule.js';
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
  assert.equal(table[3], 0, '0-based step of the first row');
  assert.equal(table[4], 0, 'no target: the controller factor is 0');
  assert.ok(Math.abs(table[5] - 1e-3 / (1 - 0.81)) < 1e-9);
  assert.equal(table[8], 1);
  assert.equal(sparsityScale(cfg, 10), 1);
});

test('run boundaries depend only on the step: multiples of stepsPerRun, checkpointEvery, resampleEvery', () => {
  const cfg = TrainConfig.parse({ variant: 'atr', dSae: 8, steps: 30, warmupSteps: 0, stepsPerRun: 8, checkpointEvery: 12, resampleEvery: 10 });
  const runs: number[] = [];
  for (let step = 0; step < cfg.steps; step += nextRunLength(cfg, step)) runs.push(nextRunLength(cfg, step));
  assert.deepEqual(runs, [8, 2, 2, 4, 4, 4, 6]);
});

test('controller gain schedule: 0 before controlStart, the LR warm-up factor, then 1', () => {
  const cfg = TrainConfig.parse({ variant: 'gated', dSae: 8, steps: 100, warmupSteps: 10, targetL0: 4, controlStart: 5 });
  assert.deepEqual([0, 4, 5, 9, 10, 99].map((t) => Math.round(controlFactor(cfg, t) * 1e9) / 1e9), [0, 0, 0.6, 1, 1, 1]);
  const lr = TrainConfig.parse({ variant: 'gated', dSae: 8, steps: 100, warmupSteps: 10, targetL0: 4, controlSchedule: 'lr' });
  assert.ok(Math.abs(controlFactor(lr, 55) - 0.5) < 1e-12, 'half-way through the cosine decay');
});

test('windows and warm-ups given as fractions are sized to the run; integers stay absolute', () => {
  const frac = TrainConfig.parse({ variant: 'standard', dSae: 8, steps: 200, batchSize: 64, warmupSteps: 0.1, sparsityWarmupSteps: 0.25 });
  assert.ok(Math.abs(learningRate(frac, 19) - 5e-4) < 1e-15, 'warm-up ends at step 20 = 0.1 x 200');
  assert.ok(learningRate(frac, 18) < 5e-4);
  assert.equal(sparsityScale(frac, 49), 1);
  assert.equal(sparsityScale(frac, 24), 0.5);
  const abs = TrainConfig.parse({ variant: 'standard', dSae: 8, steps: 200, warmupSteps: 30 });
  assert.ok(learningRate(abs, 28) < 5e-4 && Math.abs(learningRate(abs, 29) - 5e-4) < 1e-15);
  assert.equal(TrainConfig.safeParse({ variant: 'standard', dSae: 8, steps: 200, warmupSteps: 2.5 }).success, false, 'a count above 1 must be an integer');
  const atr = TrainConfig.parse({ variant: 'atr', dSae: 8, steps: 40, warmupSteps: 0, stepsPerRun: 8, checkpointEvery: 100, resampleEvery: 0.25 });
  const runs: number[] = [];
  for (let step = 0; step < atr.steps; step += nextRunLength(atr, step)) runs.push(step + nextRunLength(atr, step));
  assert.deepEqual(runs, [8, 10, 16, 20, 24, 30, 32, 40], 'resampling every 10 = 0.25 x 40 steps');
});
