/** writeReport: assembles the run's metrics.json and report/ from the artifacts (rebuilt every run). */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EVAL_FAMILIES, type CoreEvalOutput, type SpliceEvalOutput } from '../../schemas/eval.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { ModelSummary, SpecRef, StageResult, StageState, VariantResult } from '../../schemas/pipeline.js';
import type { ReportInputRaw, VariantReport } from '../../schemas/report.js';
import { trainConfigFor, variantLabel, type RunSpec } from '../../schemas/run-spec.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { projectPath } from '../../lib/core/package-root.js';
import { uiBase } from '../../lib/core/ui-url.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { EVAL_FILES } from '../evaluate/eval-files.js';
import { mergeSpliceIntoCore, SPLICE_FILES } from '../evaluate/splice-eval.js';
import { runDirOf } from '../plan/run-dir.js';
import { readMetrics } from '../train/metrics-log.js';
import { FEATURES_FILE } from './feature-files.js';
import { writeReport, type ReportSummary } from './render-report.js';

export interface ReportStageInput {
  spec: SpecRef;
  runId: string;
  model: StageResult<ModelSummary>;
  variants: VariantResult[];
  /** The run-level KL / CE splice of all SAEs (spliceSaes), merged into each SAE's core metrics; null when core did not run. */
  splice?: ArtifactRef | null;
  stages: StageState[];
  tokens: { train: number; eval: number };
  /** Links into the Temporal Web UI as paths (`/namespaces/...`); the UI base comes from this process's environment. */
  temporalLinks: { label: string; path: string }[];
}

export const reportStage = defineStage<ReportStageInput, ReportSummary & { runDir: string }>({
  name: 'report',
  module: import.meta.url,
  resources: 'cpu',
  cached: false,
  run: async (input, deps, _work, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const runDir = runDirOf(deps.dataDir, input.runId);
    ctx.onProgress({ stage: 'report', item: 'metrics', done: 0, total: 2, unit: 'steps' });
    const splice = input.splice ? ((await readJson(join(deps.store.pathOf(input.splice), SPLICE_FILES.output))) as SpliceEvalOutput | null) : null;
    const variants = await Promise.all(input.variants.map((v) => variantReport(deps.store, spec, v, splice)));
    await writeJsonAtomic(join(runDir, 'metrics.json'), Object.fromEntries(variants.map((v) => [v.label, v.metrics])));
    const reportInput: ReportInputRaw = {
      run: {
        runId: input.runId,
        generatedAt: new Date().toISOString(),
        spec: spec as unknown as Record<string, unknown>,
        model: { source: spec.model.source, layer: spec.model.layer, architecture: input.model.summary.architecture, dModel: input.model.summary.dModel, nLayers: input.model.summary.nLayers, vocabSize: input.model.summary.vocabSize },
        tokens: input.tokens,
        device: deps.device,
        stages: input.stages.map((s) => ({
          name: s.name,
          status: s.status,
          cacheHit: s.cacheHit,
          startedAt: s.startedAt,
          finishedAt: s.finishedAt,
          durationS: s.startedAt && s.finishedAt ? (Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000 : null,
        })),
        versions: versions(),
        temporalLinks: input.temporalLinks.map((l) => ({ label: l.label, url: uiBase(process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233') + l.path })),
      },
      variants,
    };
    await writeJsonAtomic(join(runDir, 'report-input.json'), reportInput);
    ctx.onProgress({ stage: 'report', item: 'render', done: 1, total: 2, unit: 'steps' });
    const summary = await writeReport(reportInput, join(runDir, 'report'), ctx);
    ctx.onProgress({ stage: 'report', item: 'render', done: 2, total: 2, unit: 'steps' });
    return { ...summary, runDir: ['runs', input.runId].join('/') };
  },
  refOf: (summary) => ({ stage: 'report', key: summary.runDir.split('/').pop()!, path: `${summary.runDir}/report` }),
});

/** What the report says an SAE is: a trained variant's resolved config, or an imported SAE's provenance. */
async function describeSae(store: ArtifactStore, spec: RunSpec, result: VariantResult): Promise<{ variant: string; dSae: number; seed: number | null; hyperparameters: Record<string, unknown> }> {
  if (result.kind === 'external') {
    const source = (await readJson(join(store.pathOf(result.sae.ref), 'source.json'))) ?? {};
    const entry = spec.sae.external.find((e) => e.name === result.label);
    return {
      variant: `external ${String(source.architecture ?? '?')}`,
      dSae: Number(source.dSae),
      seed: null,
      hyperparameters: { source: entry?.path ?? null, ...source },
    };
  }
  const index = spec.sae.variants.findIndex((v) => variantLabel(v) === result.label);
  const config = trainConfigFor(spec, index);
  return { variant: config.variant, dSae: config.dSae, seed: spec.sae.variants[index].seed ?? spec.seed, hyperparameters: config as unknown as Record<string, unknown> };
}

async function variantReport(store: ArtifactStore, spec: RunSpec, result: VariantResult, splice: SpliceEvalOutput | null): Promise<VariantReport> {
  const sae = await describeSae(store, spec, result);
  const evalJson = async (ref: ArtifactRef | undefined, file: string) => (ref ? readJson(join(store.pathOf(ref), file)) : null);
  const metrics = Object.fromEntries(await Promise.all(EVAL_FAMILIES.map(async (f) => [f, await evalJson(result.evals[f]?.ref, EVAL_FILES[f])] as const))) as VariantReport['metrics'];
  if (metrics.core && splice?.saes[result.label]) metrics.core = mergeSpliceIntoCore(metrics.core as unknown as CoreEvalOutput, splice, result.label) as unknown as VariantReport['metrics']['core'];
  const featureStats = (await evalJson(result.evals.core?.ref, EVAL_FILES.coreFeatureStats)) as { feature_density?: number[] } | null;
  const temporal = metrics.temporal as { analysis?: VariantReport['temporal'] } | null;
  // The clustering analysis (a latent x position matrix, about 1 MB) goes to the figures, not to
  // metrics.json: that file holds numbers to compare across runs.
  if (metrics.temporal) metrics.temporal = Object.fromEntries(Object.entries(metrics.temporal).filter(([key]) => key !== 'analysis'));
  const features = result.features ? ((await readJson(join(store.pathOf(result.features.ref), FEATURES_FILE))) as VariantReport['features']) : null;
  return {
    label: result.label,
    variant: sae.variant,
    dSae: sae.dSae,
    hyperparameters: sae.hyperparameters,
    seed: sae.seed,
    mechanisms: result.kind === 'external' ? null : (((result.sae.summary as { mechanisms?: Record<string, unknown> }).mechanisms ?? null) as Record<string, unknown> | null),
    metrics,
    trainingLog: (result.kind === 'external' ? [] : await readMetrics(store.pathOf(result.sae.ref))) as VariantReport['trainingLog'],
    featureDensity: featureStats?.feature_density ?? null,
    temporal: temporal?.analysis ?? null,
    features,
  };
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function versions() {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return { node: process.version, onnxruntime: version('onnxruntime-node'), temporalSdk: version('@temporalio/worker'), tsae: (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version };
}
