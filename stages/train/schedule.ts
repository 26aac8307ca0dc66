/**
 * Per-step scalars computed in JavaScript (float64) and fed to the step graph as a [M, 3]
 * table: Adam's bias-corrected step size, sqrt(1 - b2^t), and the sparsity warm-up factor.
 */
import type { TrainConfig } from '../../schemas/train.js';
import { SCHEDULE_COLUMNS } from './step-graph.js';

/**
 * Learning rate at 0-based step t: linear warm-up (t+1)/W over W steps, then cosine, linear or
 * no decay from lr to lrEndFactor * lr over the remaining steps (the paper: cosine, W = 2000).
 */
export function learningRate(cfg: TrainConfig, t: number): number {
  const { lr, warmupSteps: w, steps } = cfg;
  if (t < w) return (lr * (t + 1)) / w;
  const end = lr * cfg.lrEndFactor;
  const progress = steps > w ? Math.min(1, (t - w) / (steps - w)) : 1;
  if (cfg.lrDecay === 'cosine') return end + (lr - end) * 0.5 * (1 + Math.cos(Math.PI * progress));
  if (cfg.lrDecay === 'linear') return lr - (lr - end) * progress;
  return lr;
}

/** Sparsity coefficient warm-up factor in [0, 1] at 0-based step t. */
export function sparsityScale(cfg: TrainConfig, t: number): number {
  const w = 'sparsityWarmupSteps' in cfg ? cfg.sparsityWarmupSteps : 0;
  return w > 0 ? Math.min(1, (t + 1) / w) : 1;
}

/** The [count, 3] schedule table for steps first .. first+count-1. */
export function scheduleTable(cfg: TrainConfig, first: number, count: number): Float32Array {
  const width = SCHEDULE_COLUMNS.length;
  const out = new Float32Array(count * width);
  for (let i = 0; i < count; i++) {
    const t = first + i;
    const step = t + 1; // Adam's step counter after this update
    out[i * width] = learningRate(cfg, t) / (1 - cfg.adamBeta1 ** step);
    out[i * width + 1] = Math.sqrt(1 - cfg.adamBeta2 ** step);
    out[i * width + 2] = sparsityScale(cfg, t);
  }
  return out;
}
