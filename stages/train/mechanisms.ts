/**
 * What each training mechanism did over a run, accumulated from every step's metrics (not only
 * the logged lines) and from resampling events, for TrainSummary.mechanisms (the report prints
 * it). Plain JSON, saved in checkpoints, so a resumed run reports the same as an uninterrupted one.
 */
import type { TrainConfig } from '../../schemas/train.js';
import { sparsityControlOf, targetL0Of } from './resolve-config.js';
import type { MetricsLine } from './metrics-log.js';

/** An adaptive coefficient's path: clamp hits count steps that ended at a bound. */
export interface CoefficientTrace {
  /** Steps observed. */
  steps: number;
  initial: number;
  final: number;
  min: number;
  max: number;
  clampHitsLow: number;
  clampHitsHigh: number;
  /** [step, value] at about 20 evenly spaced steps and the last. */
  trajectory: [number, number][];
}

export interface TrainMechanisms {
  sparsity: {
    /** 'k' (topk, batchtopk), 'target' (the shared controller) or 'fixed'. */
    control: 'k' | 'target' | 'fixed';
    targetL0: number | null;
    /** Training L0 of the last step and its mean over the last tenth of the steps. */
    finalL0: number;
    lastTenthL0: number;
    /** lambda_t (L1 or L0 coefficient) of standard, gated, jumprelu, atr. */
    lambda: CoefficientTrace | null;
  };
  deadLatents: { windowTokens: number; final: number; max: number; firstStep: number | null };
  /** topk, batchtopk. */
  auxk: { coefficient: number; activeSteps: number; max: number; final: number } | null;
  /** batchtopk: the inference threshold (normalised units). */
  threshold: { startStep: number; final: number } | null;
  /** atr: Eq. 6 resampling and Eq. 3's alpha_t. */
  resampling: { every: number; historyWindowSteps: number; events: number; latents: number; eventSteps: number[] } | null;
  alpha: CoefficientTrace | null;
  /** Norm-outlier filter: the cut in raw units and the share of the init sample above it. */
  outliers: { maxNormMultiple: number | null; maxNorm: number | null; sampleFraction: number };
}

function emptyTrace(): CoefficientTrace {
  return { steps: 0, initial: 0, final: 0, min: 0, max: 0, clampHitsLow: 0, clampHitsHigh: 0, trajectory: [] };
}

function observeTrace(trace: CoefficientTrace, step: number, value: number, clamp: number, keep: boolean): void {
  if (trace.steps++ === 0) trace.initial = trace.min = trace.max = value;
  trace.final = value;
  trace.min = Math.min(trace.min, value);
  trace.max = Math.max(trace.max, value);
  if (clamp > 0) trace.clampHitsHigh++;
  if (clamp < 0) trace.clampHitsLow++;
  if (keep) trace.trajectory.push([step, value]);
}

export function initialMechanisms(cfg: TrainConfig, outliers: TrainMechanisms['outliers']): TrainMechanisms {
  const atr = cfg.variant === 'atr';
  const controlled = cfg.variant === 'standard' || cfg.variant === 'gated' || cfg.variant === 'jumprelu' || atr;
  return {
    sparsity: { control: sparsityControlOf(cfg), targetL0: targetL0Of(cfg), finalL0: 0, lastTenthL0: 0, lambda: controlled ? emptyTrace() : null },
    deadLatents: { windowTokens: cfg.deadWindowTokens, final: 0, max: 0, firstStep: null },
    auxk: cfg.variant === 'topk' || cfg.variant === 'batchtopk' ? { coefficient: cfg.auxKCoefficient, activeSteps: 0, max: 0, final: 0 } : null,
    threshold: cfg.variant === 'batchtopk' ? { startStep: cfg.thresholdStartStep, final: -1 } : null,
    resampling: atr ? { every: cfg.resampleEvery, historyWindowSteps: cfg.historyWindowSteps, events: 0, latents: 0, eventSteps: [] } : null,
    alpha: atr ? emptyTrace() : null,
    outliers,
  };
}

/** Folds one step's metrics line (all steps, in order) into `m` (cfg resolved). */
export function observeStep(m: TrainMechanisms, cfg: TrainConfig, line: MetricsLine): void {
  const { step } = line;
  const every = Math.max(1, Math.floor(cfg.steps / 20));
  const keep = step % every === 0 || step === cfg.steps || step === 1;
  m.sparsity.finalL0 = line.l0;
  const tenth = Math.max(1, Math.ceil(cfg.steps / 10));
  if (step > cfg.steps - tenth) m.sparsity.lastTenthL0 += line.l0 / tenth;
  if (m.sparsity.lambda && line.lambda_t !== undefined) observeTrace(m.sparsity.lambda, step, line.lambda_t, line.lambda_clamp ?? 0, keep);
  if (m.alpha && line.alpha_t !== undefined) observeTrace(m.alpha, step, line.alpha_t, line.alpha_clamp ?? 0, keep);
  const dead = Math.round((line.dead_pct * cfg.dSae) / 100);
  m.deadLatents.final = dead;
  m.deadLatents.max = Math.max(m.deadLatents.max, dead);
  if (dead > 0 && m.deadLatents.firstStep === null) m.deadLatents.firstStep = step;
  if (m.auxk) {
    m.auxk.final = line.auxk;
    m.auxk.max = Math.max(m.auxk.max, line.auxk);
    if (line.auxk > 0) m.auxk.activeSteps++;
  }
  if (m.threshold) m.threshold.final = line.threshold;
}

export function observeResampling(m: TrainMechanisms, step: number, latents: number): void {
  if (!m.resampling) return;
  m.resampling.events++;
  m.resampling.latents += latents;
  m.resampling.eventSteps.push(step);
}
