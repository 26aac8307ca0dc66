/**
 * Every mechanism acts in a short run and shows in metrics.jsonl and TrainSummary.mechanisms:
 * AuxK is non-zero exactly when latents are dead, the BatchTopK threshold starts at its start
 * step, atr resamples and adapts alpha_t and lambda_t, and the alpha_0 = 0 control trains the
 * same sequence batches with no temporal term and nothing divided by alpha_0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfig, type TrainConfigInput } from '../../../schemas/train.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { trainSae } from '../../../stages/train/train-sae.js';
import { readMetrics } from '../../../stages/train/metrics-log.js';
import { syntheticTable } from './synthetic.js';

const DATA = { dIn: 16, features: 48, active: 3, tokens: 4096, seqLen: 16, seed: 9, dtype: 'float16' as const, persist: 0.5 };
const table = syntheticTable(DATA);
const BASE = { dSae: 96, steps: 60, batchSize: 64, lr: 1e-2, checkpointEvery: 1000, stepsPerRun: 6 };

async function train(t: { after: (fn: () => Promise<void>) => void }, input: Record<string, unknown>) {
  const cfg = TrainConfig.parse({ ...BASE, ...input } as TrainConfigInput);
  const dir = await mkdtemp(join(tmpdir(), `tsae-mech-${cfg.variant}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const summary = await trainSae({ data: [table], config: cfg, seed: 2, device: 'cpu' }, dir, defaultStageContext());
  return { summary, lines: await readMetrics(dir) };
}

test('topk: dead latents appear within the run-sized window and AuxK is non-zero exactly when they exist', async (t) => {
  const { summary, lines } = await train(t, { variant: 'topk', k: 2, deadWindowTokens: 0.05 });
  const m = summary.mechanisms;
  assert.equal(m.deadLatents.windowTokens, Math.round(0.05 * 60 * 64));
  assert.ok(m.deadLatents.max > 0, 'some latents died');
  assert.ok(m.auxk!.activeSteps > 0 && m.auxk!.max > 0, 'AuxK acted');
  // AuxK of step s uses the dead set after step s-1 (dead_pct of the previous line).
  for (let i = 1; i < lines.length; i++) assert.equal(lines[i].auxk > 0, lines[i - 1].dead_pct > 0, `step ${lines[i].step}`);
});

test('batchtopk: the inference threshold is unset up to its start step, then set', async (t) => {
  const { summary, lines } = await train(t, { variant: 'batchtopk', k: 3, thresholdStartStep: 0.5 });
  for (const l of lines) assert.equal(l.threshold > 0, l.step - 1 > 30, `step ${l.step}: threshold ${l.threshold}`);
  assert.equal(summary.mechanisms.threshold!.startStep, 30);
  assert.ok(summary.mechanisms.threshold!.final > 0);
});

test('atr: resampling, lambda_t and alpha_t act; the alpha_0 = 0 control has no temporal term', async (t) => {
  const atr = { variant: 'atr', seqLen: 16, targetL0: 6, resampleRule: 'percentile' };
  const full = await train(t, { ...atr, alpha0: 0.01 });
  const m = full.summary.mechanisms;
  assert.equal(m.resampling!.every, 15);
  assert.deepEqual(m.resampling!.eventSteps, [15, 30, 45], 'resampled at 25%, 50%, 75% of the run');
  assert.ok(m.resampling!.latents > 0);
  assert.ok(m.alpha!.max > m.alpha!.min, 'alpha_t moved');
  assert.ok(m.sparsity.lambda!.max > m.sparsity.lambda!.min, 'lambda_t moved');
  assert.ok(full.lines.every((l) => l.temporal > 0 || l.step === 1));

  const control = await train(t, { ...atr, alpha0: 0 });
  for (const l of control.lines) {
    assert.ok(Object.values(l).every(Number.isFinite), `step ${l.step}: finite metrics`);
    assert.equal(l.temporal, 0);
    assert.equal(l.alpha_t, 0);
    assert.equal(l.alpha_clamp, 0, 'a zero alpha is not a clamp hit');
  }
  const a = control.summary.mechanisms.alpha!;
  assert.equal(a.clampHitsHigh + a.clampHitsLow, 0);
  assert.ok(control.summary.finalMetrics.explained_variance > 0, 'the control trains');
});
