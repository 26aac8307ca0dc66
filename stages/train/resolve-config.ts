/**
 * Derived training settings: windows and warm-ups given as fractions of the run become step or
 * token counts (schemas/train.ts RUN_RULE), k comes from targetL0 when not given. Pure and
 * idempotent (a resolved config resolves to itself), so every entry point (trainSae, the step and
 * gradient graphs, the schedule, the export) can call it on whatever config it is handed.
 */
import { resolveRunCount, type TrainConfig } from '../../schemas/train.js';

/** The config with every run-relative count made absolute (same type, same keys). */
export function resolveTrainConfig(cfg: TrainConfig): TrainConfig {
  const steps = (v: number) => resolveRunCount(v, cfg.steps);
  const out = {
    ...cfg,
    warmupSteps: steps(cfg.warmupSteps),
    deadWindowTokens: resolveRunCount(cfg.deadWindowTokens, cfg.steps * cfg.batchSize),
  } as TrainConfig;
  switch (out.variant) {
    case 'topk':
      return { ...out, k: topkK(out) };
    case 'batchtopk':
      return { ...out, k: topkK(out), thresholdStartStep: steps(out.thresholdStartStep) };
    case 'atr':
      return {
        ...out,
        controlStart: steps(out.controlStart),
        sparsityWarmupSteps: steps(out.sparsityWarmupSteps),
        resampleEvery: steps(out.resampleEvery),
        historyWindowSteps: Math.max(1, steps(out.historyWindowSteps)),
        mseEmaSteps: Math.max(1, steps(out.mseEmaSteps)),
      };
    default:
      return { ...out, sparsityWarmupSteps: steps(out.sparsityWarmupSteps), controlStart: steps(out.controlStart) };
  }
}

/** k of a TopK-family config: k, else targetL0 rounded, else 32. */
export function topkK(cfg: Extract<TrainConfig, { variant: 'topk' | 'batchtopk' }>): number {
  return cfg.k ?? Math.round(cfg.targetL0 ?? 32);
}

/** The sparsity target a variant aims at (k for the TopK family), or null when none is set. */
export function targetL0Of(cfg: TrainConfig): number | null {
  if (cfg.variant === 'topk' || cfg.variant === 'batchtopk') return topkK(cfg);
  return cfg.targetL0 ?? null;
}

/** How the variant reaches its sparsity: 'k' (TopK family), 'target' (the controller) or 'fixed'. */
export function sparsityControlOf(cfg: TrainConfig): 'k' | 'target' | 'fixed' {
  if (cfg.variant === 'topk' || cfg.variant === 'batchtopk') return 'k';
  return cfg.sparsityControl ?? (cfg.targetL0 !== undefined ? 'target' : 'fixed');
}
