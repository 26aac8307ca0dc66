/**
 * Per-step scalars computed in JavaScript (float64) and fed to the step graph as a [M, 5]
 * table: Adam's bias-corrected step size, sqrt(1 - b2^t), the sparsity warm-up factor, the
 * 0-based step number and the sparsity controller's gain factor. Counts given as fractions of
 * the run are resolved first.
 */
import type { TrainConfig } from '../../schemas/train.js';
import { resolveTrainConfig, sparsityControlOf } from './resolve-config.js';
import { SCHEDULE_COLUMNS } from './step-graph.js';

/**
 * Learning rate at 0-based step t: linear warm-up (t+1)/W over W steps, then cosine, linear or
 * no decay from lr to lrEndFactor * lr over the remaining steps (the paper: cosine, W = 2000).
 */
export function learningRate(config: TrainConfig, t: number): number {
  const cfg = resolveTrainConfig(config);
  const { lr, warmupSteps: w, steps } = cfg;
  if (t < w) return (lr * (t + 1)) / w;
  const end = lr * cfg.lrEndFactor;
  const progress = steps > w ? Math.min(1, (t - w) / (steps - w)) : 1;
  if (cfg.lrDecay === 'cosine') return end + (lr - end) * 0.5 * (1 + Math.cos(Math.PI * progress));
  if (cfg.lrDecay === 'linear') return lr - (lr - end) * progress;
  return lr;
}

/** Sparsity coefficient warm-up factor in [0, 1] at 0-based step t. */
export function sparsityScale(config: TrainConfig, t: number): number {
  const cfg = resolveTrainConfig(config);
  const w = 'sparsityWarmupSteps' in cfg ? cfg.sparsityWarmupSteps : 0;
  return w > 0 ? Math.min(1, (t + 1) / w) : 1;
}

/**
 * The sparsity controller's gain factor at 0-based step t: 0 before controlStart, then the LR
 * warm-up factor (controlSchedule 'warmup': L0 hardly answers lambda while the LR warms up) or
 * lr_t / lr throughout ('lr').
 */
export function controlFactor(config: TrainConfig, t: number): number {
  const cfg = resolveTrainConfig(config);
  if (cfg.variant === 'topk' || cfg.variant === 'batchtopk' || sparsityControlOf(cfg) !== 'target' || t < cfg.controlStart) return 0;
  const factor = learningRate(cfg, t) / cfg.lr;
  return cfg.controlSchedule === 'lr' || t < cfg.warmupSteps ? factor : 1;
}

/** The [count, 5] schedule table for steps first .. first+count-1. */
export function scheduleTable(config: TrainConfig, first: number, count: number): Float32Array {
  const cfg = resolveTrainConfig(config);
  const width = SCHEDULE_COLUMNS.length;
  const out = new Float32Array(count * width);
  for (let i = 0; i < count; i++) {
    const t = first + i;
    const step = t + 1; // Adam's step counter after this update
    out[i * width] = learningRate(cfg, t) / (1 - cfg.adamBeta1 ** step);
    out[i * width + 1] = Math.sqrt(1 - cfg.adamBeta2 ** step);
    out[i * width + 2] = sparsityScale(cfg, t);
    out[i * width + 3] = t;
    out[i * width + 4] = controlFactor(cfg, t);
  }
  return out;
}
