/**
 * The whole resumable state of a training run and its mapping to checkpoint files: parameters,
 * Adam moments, variant state (adaptive coefficients, threshold), dead-latent counters,
 * PRNG state, data cursor, the atr statistics window, the normalisation scale, the norm-outlier
 * cut and the mechanism log.
 */
import type { TrainConfig } from '../../schemas/train.js';
import { canonicalJson, sha256Hex } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';
import type { DataCursor, TrainData } from './batches.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { initialDecoderBias, medianNorm, normalisationScale, rowsWithin, sampleTokens } from './init-data.js';
import { initialMechanisms, type TrainMechanisms } from './mechanisms.js';
import { Prng, type PrngState } from './prng.js';
import { StatsWindow } from './resample.js';
import type { TrainState } from './step-runner.js';
import { variantFor } from './variants/index.js';

export interface RunState {
  state: TrainState;
  prng: Prng;
  cursor: DataCursor;
  normScale: number;
  /** Valid (loss-bearing) tokens trained on so far. */
  tokensSeen: number;
  window: StatsWindow;
  resampled: number;
  /** Raw-unit norm above which tokens are left out (Infinity: none). */
  maxNorm: number;
  mechanisms: TrainMechanisms;
}

interface CheckpointMeta {
  version: 2;
  configHash: string;
  dIn: number;
  dtype: 'float16' | 'float32';
  normScale: number;
  tokensSeen: number;
  prng: PrngState;
  cursor: DataCursor;
  windowSteps: number[];
  windowTokens: number[];
  resampled: number;
  maxNorm: number | null;
  mechanisms: TrainMechanisms;
}

/** Identity of a run: a checkpoint is only resumed by the same config and seed. */
export function runHash(cfg: TrainConfig, seed: number): string {
  return sha256Hex(canonicalJson({ cfg, seed }));
}

/** Bytes of the mixing buffer (batches.ts). */
export function bufferBytes(cfg: TrainConfig): number {
  return cfg.shuffleBufferMb * 2 ** 20;
}

/**
 * A fresh run: from a token sample, the norm-outlier cut (maxNormMultiple x the median norm), then
 * from the sample's tokens within it the normalisation scale and b_dec, then the parameters.
 */
export async function initialRunState(cfg: TrainConfig, seed: number, data: TrainData, dIn: number, dtype: 'float16' | 'float32'): Promise<RunState> {
  const variant = variantFor(cfg.variant);
  const raw = await sampleTokens(data, dIn, dtype, cfg.initSampleTokens, seed, bufferBytes(cfg));
  const maxNorm = cfg.maxNormMultiple === null ? Infinity : cfg.maxNormMultiple * medianNorm(raw.x, raw.rows, dIn);
  const sample = rowsWithin(raw.x, raw.rows, dIn, maxNorm);
  const normScale = normalisationScale(cfg, sample.x, sample.rows, dIn);
  const bDec = initialDecoderBias(cfg, sample.x, sample.rows, dIn, normScale);
  const prng = Prng.fromSeed(seed, 'train');
  let init = { params: variant.init(dIn, cfg.dSae, cfg, prng, bDec), state: variant.initialState(cfg, dIn) };
  if (variant.initFromSample) init = await variant.initFromSample(init, { x: sample.x.map((v) => v * normScale), rows: sample.rows }, cfg, dIn);
  const { params } = init;
  const zeros = () => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float32Array(v.length)]));
  const state: TrainState = { step: 0, params, m: zeros(), v: zeros(), variantState: init.state, sinceFired: new Float32Array(cfg.dSae) };
  const windowSteps = cfg.variant === 'atr' ? cfg.historyWindowSteps : 1;
  const outliers = { maxNormMultiple: cfg.maxNormMultiple, maxNorm: Number.isFinite(maxNorm) ? maxNorm : null, sampleFraction: 1 - sample.rows / raw.rows };
  return { state, prng, cursor: { epoch: 0, shard: 0, offset: 0 }, normScale, tokensSeen: 0, window: new StatsWindow(windowSteps), resampled: 0, maxNorm, mechanisms: initialMechanisms(cfg, outliers) };
}

export async function saveRunState(outDir: string, cfg: TrainConfig, seed: number, run: RunState, dIn: number, dtype: 'float16' | 'float32'): Promise<void> {
  const { state } = run;
  const tensors: Record<string, Float32Array> = { sinceFired: state.sinceFired };
  for (const [name, value] of Object.entries(state.params)) {
    tensors[`param:${name}`] = value;
    tensors[`m:${name}`] = state.m[name];
    tensors[`v:${name}`] = state.v[name];
  }
  for (const [name, value] of Object.entries(state.variantState)) tensors[`state:${name}`] = value;
  run.window.entries.forEach((e, i) => {
    tensors[`window:${i}:fired`] = e.fired;
    tensors[`window:${i}:actSum`] = e.actSum;
    tensors[`window:${i}:actSqSum`] = e.actSqSum;
  });
  const meta: CheckpointMeta = {
    version: 2,
    configHash: runHash(cfg, seed),
    dIn,
    dtype,
    normScale: run.normScale,
    tokensSeen: run.tokensSeen,
    prng: run.prng.state(),
    cursor: run.cursor,
    windowSteps: run.window.entries.map((e) => e.steps),
    windowTokens: run.window.entries.map((e) => e.tokens),
    resampled: run.resampled,
    maxNorm: Number.isFinite(run.maxNorm) ? run.maxNorm : null,
    mechanisms: run.mechanisms,
  };
  await saveCheckpoint(outDir, { step: state.step, meta, tensors });
}

/** The checkpointed run in outDir, or null. A checkpoint of another config is an error. */
export async function loadRunState(outDir: string, cfg: TrainConfig, seed: number, dIn: number, dtype: 'float16' | 'float32'): Promise<RunState | null> {
  const saved = await loadCheckpoint<CheckpointMeta>(outDir);
  if (!saved) return null;
  const { meta, tensors } = saved;
  if (meta.configHash !== runHash(cfg, seed) || meta.dIn !== dIn || meta.dtype !== dtype) {
    throw new TsaeError('CORRUPT_ARTIFACT', `Checkpoint in ${outDir} belongs to another config, seed or data (hash ${meta.configHash}); use a fresh output folder`, {
      details: { outDir },
    });
  }
  const variant = variantFor(cfg.variant);
  const pick = (prefix: string) => Object.fromEntries(variant.params(dIn, cfg.dSae).map((p) => [p.name, tensors[`${prefix}:${p.name}`]]));
  const variantState = Object.fromEntries(Object.keys(variant.initialState(cfg, dIn)).map((s) => [s, tensors[`state:${s}`]]));
  const state: TrainState = { step: saved.step, params: pick('param'), m: pick('m'), v: pick('v'), variantState, sinceFired: tensors.sinceFired };
  const windowSteps = cfg.variant === 'atr' ? cfg.historyWindowSteps : 1;
  const entries = meta.windowSteps.map((steps, i) => ({
    steps,
    tokens: meta.windowTokens[i],
    fired: tensors[`window:${i}:fired`],
    actSum: tensors[`window:${i}:actSum`],
    actSqSum: tensors[`window:${i}:actSqSum`],
  }));
  return {
    state,
    prng: new Prng(meta.prng),
    cursor: meta.cursor,
    normScale: meta.normScale,
    tokensSeen: meta.tokensSeen,
    window: new StatsWindow(windowSteps, entries),
    resampled: meta.resampled,
    maxNorm: meta.maxNorm ?? Infinity,
    mechanisms: meta.mechanisms,
  };
}
