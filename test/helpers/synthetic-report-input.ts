/**
 * Synthetic but schema-valid report inputs, for the committed test fixture and the report
 * benchmark (6 variants, d_sae 5120, ~16k eval tokens). The numbers are made up with a seeded
 * generator and only have to look like a run (plausible ranges, clustered position profiles);
 * they are never presented as results. The feature-browser part is computed by the real
 * collectFeatureBrowserData over a synthetic activation table and a ReLU encoder.
 */
import { mulberry32 } from '../../lib/core/prng.js';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { ReportInputRaw, TemporalAnalysis, TrainLogRow, VariantReport } from '../../schemas/report.js';
import type { SaeEncoder } from '../../stages/report/feature-browser-data.js';

export interface SyntheticOptions {
  variants: { label: string; variant: string }[];
  dSae: number;
  positions: number;
  trainSteps: number;
  /** Features clustered in the temporal analysis. */
  temporalFeatures: number;
  seed: number;
}

/** mulberry32 (lib/core/prng.ts): a tiny seeded generator, enough for made-up data. */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** A whole ReportInput without feature-browser data (add it with collectFeatureBrowserData). */
export function synthesizeReportInput(o: SyntheticOptions): ReportInputRaw {
  const rand = seededRandom(o.seed);
  const variants = o.variants.map((v, i) => synthesizeVariant(v.label, v.variant, i, o, rand));
  const stages = ['model', 'corpus', 'tokenize:shard-0', 'extract:train-0', 'extract:eval-1', ...o.variants.flatMap((v) => [`${v.label}/train`, `${v.label}/evaluate`])];
  return {
    run: {
      runId: `synthetic-${o.seed}`,
      generatedAt: '2026-01-01T00:00:00.000Z',
      spec: { name: 'synthetic', model: { source: 'synthetic', layer: 6 }, sae: { dSae: o.dSae, variants: o.variants } },
      model: { source: 'synthetic (made-up data)', layer: 6, architecture: 'none', dModel: 64, nLayers: 12, vocabSize: 1000 },
      tokens: { train: 1_000_000, eval: 16_384 },
      device: 'cpu',
      stages: stages.map((name, i) => ({ name, status: 'done', durationS: Math.round(rand() * 600 * 10) / 10, cacheHit: i === 0 })),
      versions: { node: process.version, onnxruntime: '1.30.0', temporalSdk: '1.24.0' },
      temporalLinks: [{ label: 'pipeline workflow', url: `http://localhost:8233/namespaces/default/workflows/synthetic-${o.seed}` }],
    },
    variants,
  };
}

function synthesizeVariant(label: string, variant: string, index: number, o: SyntheticOptions, rand: () => number): VariantReport {
  const l0 = variant === 'standard' ? 900 + rand() * 100 : 32 + rand() * 4;
  const ev = 0.7 + 0.25 * rand();
  const core = {
    explained_variance: ev,
    explained_variance_legacy: ev - 0.05 * rand(),
    mse: (1 - ev) * 2,
    l0,
    l1: l0 * 0.8,
    l2_ratio: 0.9 + 0.08 * rand(),
    relative_reconstruction_bias: 0.95 + 0.04 * rand(),
    kl_div_score: 0.9 + 0.09 * rand(),
    ce_loss_score: 0.88 + 0.1 * rand(),
    frac_alive: 0.8 + 0.2 * rand(),
  };
  const nested = index % 2 === 1; // exercise SAEBench's nested layout on every other variant
  return {
    label,
    variant,
    dSae: o.dSae,
    hyperparameters: variant === 'atr' ? { targetL0: 32, lambda0: 0.04 } : {},
    seed: 0,
    mechanisms:
      variant === 'atr'
        ? {
            sparsity: { control: 'target', targetL0: 32, finalL0: l0, lastTenthL0: l0, lambda: { steps: o.trainSteps, initial: 0.04, final: 0.05, min: 0.03, max: 0.06, clampHitsLow: 0, clampHitsHigh: 2, trajectory: [] } },
            deadLatents: { windowTokens: 1000, final: 1, max: 3, firstStep: 10 },
            auxk: null,
            threshold: null,
            resampling: { every: 25, historyWindowSteps: 25, events: 3, latents: 12, eventSteps: [25, 50, 75] },
            alpha: { steps: o.trainSteps, initial: 0.002, final: 0.003, min: 0.001, max: 0.02, clampHitsLow: 0, clampHitsHigh: 5, trajectory: [] },
          }
        : null,
    metrics: {
      core: nested ? { eval_result_metrics: { reconstruction_quality: { explained_variance: core.explained_variance, explained_variance_legacy: core.explained_variance_legacy, mse: core.mse }, sparsity: { l0: core.l0, l1: core.l1 }, shrinkage: { l2_ratio: core.l2_ratio, relative_reconstruction_bias: core.relative_reconstruction_bias }, model_behavior_preservation: { kl_div_score: core.kl_div_score }, model_performance_preservation: { ce_loss_score: core.ce_loss_score }, misc_metrics: { frac_alive: core.frac_alive } } } : core,
      absorption: index === 0 ? { mean_absorption_fraction_score: null, mean_full_absorption_score: null, mean_num_split_features: null, status: 'not enough valid letters' } : { mean_absorption_fraction_score: 0.05 * rand(), mean_full_absorption_score: 0.02 * rand(), mean_num_split_features: 1 + rand() },
      sparse_probing: { sae_top_1_test_accuracy: 0.6 + 0.1 * rand(), sae_top_2_test_accuracy: 0.65 + 0.1 * rand(), sae_top_5_test_accuracy: 0.7 + 0.1 * rand(), llm_test_accuracy: 0.9 + 0.05 * rand() },
      temporal: { temporal_instability: 0.2 + 0.5 * rand(), lag1_autocorrelation: 0.2 + 0.6 * rand() },
    },
    trainingLog: trainingLog(variant, l0, ev, o.trainSteps, rand),
    featureDensity: Array.from({ length: o.dSae }, () => (rand() < 0.05 ? 0 : 10 ** (-5 + 4.5 * rand()))),
    temporal: temporalAnalysis(o, rand),
    features: null,
  };
}

/** Rows shaped like the trainer's metrics.jsonl (flat loss-term keys, lambda_t / alpha_t for atr). */
function trainingLog(variant: string, l0: number, ev: number, steps: number, rand: () => number): TrainLogRow[] {
  const rows: TrainLogRow[] = [];
  for (let step = 1; step <= steps; step++) {
    const p = step / steps;
    const noise = 1 + 0.05 * (rand() - 0.5);
    const row: TrainLogRow = {
      step,
      tokens: step * 2048,
      loss: (0.3 + 2 * Math.exp(-6 * p)) * noise,
      mse: (0.2 + 1.5 * Math.exp(-6 * p)) * noise,
      l1: 0.1 * noise,
      grad_norm: 0.5 * Math.exp(-2 * p) * noise,
      l0: (l0 + 2000 * Math.exp(-8 * p)) * noise,
      explained_variance: ev * (1 - Math.exp(-6 * p)),
      dead_pct: 20 * Math.exp(-4 * p),
      lr: 5e-4 * Math.min(1, step / (steps * 0.1)),
      tokens_per_s: 20_000 * noise,
    };
    if (variant === 'atr') {
      row.temporal = 0.01 * noise;
      row.lambda_t = 0.04 * Math.exp(0.002 * (row.l0! - 32));
      row.alpha_t = 0.002 * (1 + 0.3 * Math.sin(step / 20));
    }
    rows.push(row);
  }
  return rows;
}

/** Features in a few groups with distinct position profiles, and a valid SciPy-style linkage over them. */
export function temporalAnalysis(o: Pick<SyntheticOptions, 'positions' | 'temporalFeatures' | 'dSae'>, rand: () => number): TemporalAnalysis {
  const groups = 4;
  const n = o.temporalFeatures;
  const positions = Array.from({ length: o.positions }, (_, p) => p);
  const group = Array.from({ length: n }, (_, i) => i % groups);
  const shape = (g: number, p: number) => {
    const x = p / Math.max(1, o.positions - 1);
    return [Math.exp(-8 * x), x, Math.exp(-20 * (x - 0.5) ** 2), 0.5][g];
  };
  const activity = group.map((g) => positions.map((p) => Math.max(0, shape(g, p) * (0.5 + rand()) * 0.1 + 0.005 * rand())));
  // Linkage: chain-merge each group's members (small distances), then merge the groups.
  const Z: number[][] = [];
  let next = n;
  let d = 0.1;
  const roots: { id: number; size: number }[] = [];
  for (let g = 0; g < groups; g++) {
    const members = group.map((gg, i) => (gg === g ? i : -1)).filter((i) => i >= 0);
    if (members.length === 0) continue;
    let cur = { id: members[0], size: 1 };
    for (const m of members.slice(1)) {
      Z.push([Math.min(cur.id, m), Math.max(cur.id, m), (d += 0.001), cur.size + 1]);
      cur = { id: next++, size: cur.size + 1 };
    }
    roots.push(cur);
  }
  let top = roots[0];
  for (const r of roots.slice(1)) {
    Z.push([Math.min(top.id, r.id), Math.max(top.id, r.id), (d += 0.5), top.size + r.size]);
    top = { id: next++, size: top.size + r.size };
  }
  const features = Array.from({ length: n }, (_, i) => (i * 7919) % o.dSae);
  return {
    positions,
    perPosition: {
      l0: positions.map((p) => 30 + 5 * Math.exp(-p / 3) + rand()),
      explained_variance: positions.map((p) => 0.8 - 0.2 * Math.exp(-p / 2) + 0.01 * rand()),
      mse: positions.map((p) => 0.3 + 0.4 * Math.exp(-p / 2) + 0.01 * rand()),
    },
    features,
    activity,
    activityMeasure: 'firing rate',
    linkage: Z,
    linkageMethod: 'ward',
    clusters: group.map((g) => g + 1),
    nClusters: groups,
    criterion: { name: 'silhouette', value: 0.42, candidates: [2, 3, 4, 5, 6].map((k) => ({ k, score: k === 4 ? 0.42 : 0.3 - 0.01 * k })) },
  };
}

/** An activation table of `count` tokens in windows of `seqLen` (first of each window special). */
export function syntheticTable(count: number, seqLen: number, dModel: number, vocab: number, seed: number): ActivationTable {
  const rand = seededRandom(seed);
  const values = new Float32Array(count * dModel);
  for (let i = 0; i < values.length; i++) values[i] = rand() * 2 - 1;
  const positions = Int32Array.from({ length: count }, (_, t) => t % seqLen);
  return {
    dModel,
    dtype: 'float32',
    count,
    values,
    tokenIds: Int32Array.from({ length: count }, () => Math.floor(rand() * vocab)),
    rowIds: Int32Array.from({ length: count }, (_, t) => Math.floor(t / seqLen)),
    positions,
    docIndex: new Int32Array(count),
    isSpecial: Uint8Array.from(positions, (p) => (p === 0 ? 1 : 0)),
    sourceSets: new Array<string>(count).fill('synthetic'),
  };
}

/** A ReLU SAE encoder in plain JS (for small tests): f = relu(x W_enc + b_enc), W_dec = W_enc^T. */
export function syntheticEncoder(dIn: number, dSae: number, seed: number, bias = -0.5): SaeEncoder {
  const rand = seededRandom(seed);
  const wEnc = Float32Array.from({ length: dIn * dSae }, () => (rand() * 2 - 1) / Math.sqrt(dIn));
  return {
    dIn,
    dSae,
    async encode(x, rows) {
      const out = new Float32Array(rows * dSae);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < dSae; j++) {
          let acc = bias;
          for (let k = 0; k < dIn; k++) acc += x[r * dIn + k] * wEnc[k * dSae + j];
          out[r * dSae + j] = acc > 0 ? acc : 0;
        }
      }
      return out;
    },
    decoderRows() {
      const dec = new Float32Array(dSae * dIn);
      for (let j = 0; j < dSae; j++) for (let k = 0; k < dIn; k++) dec[j * dIn + k] = wEnc[k * dSae + j];
      return dec;
    },
  };
}
