/** Evaluation and feature-browser activities: thin wrappers over stages/evaluate and stages/report. */
import { join } from 'node:path';
import type { EvalFamily } from '../schemas/eval.js';
import type { ArtifactRef } from '../schemas/manifest.js';
import type { ModelSummary, StageResult } from '../schemas/pipeline.js';
import type { FeatureBrowserVariant } from '../schemas/report.js';
import { variantLabel, type RunSpec } from '../schemas/run-spec.js';
import { writeJsonAtomic } from '../lib/core/atomic-fs.js';
import { PROBE_TASKS, loadProbeTask } from '../stages/corpus/probe-tasks.js';
import { evaluateSae, type EvaluateSummary } from '../stages/evaluate/evaluate-sae.js';
import type { EvalTokenizer, ProbeExample, Splicer } from '../stages/evaluate/interfaces.js';
import { readVocabPieces, toEvalTokenizer } from '../stages/evaluate/tokenizer-adapter.js';
import { withResidualCache } from '../stages/model/residual-cache.js';
import { createSplicer } from '../stages/model/splice.js';
import { readUnembedding } from '../stages/model/unembedding.js';
import { collectFeatureBrowserData } from '../stages/report/feature-browser-data.js';
import { loadTokenizer } from '../stages/tokenize/load-tokenizer.js';
import { loadSae } from '../stages/train/sae-runtime.js';
import { evalTableOf } from './activation-data.js';
import { corpusPathOf, modelDirOf, type CorpusSummary } from './corpus.js';
import type { WorkerDeps } from './index.js';
import { graphDirOf } from './model.js';
import { runStageActivity } from './run-stage.js';

const EVALUATE_CODE_VERSION = 'evaluate@1';
const FEATURES_CODE_VERSION = 'features@1';
export const FEATURES_FILE = 'features.json';

export interface EvaluateInput {
  spec: RunSpec;
  variantIndex: number;
  family: EvalFamily;
  sae: ArtifactRef;
  model: StageResult<ModelSummary>;
  corpus: StageResult<CorpusSummary>;
  evalShards: ArtifactRef[];
}

/** Families that run the language model around the hooked layer. */
const NEEDS_MODEL: Record<EvalFamily, boolean> = { core: true, absorption: true, sparse_probing: true, temporal: false };

export function createEvaluateActivities(deps: WorkerDeps) {
  const tokenizers = new Map<string, Promise<EvalTokenizer>>();
  const evalTokenizer = (modelDir: string) => {
    if (!tokenizers.has(modelDir)) {
      tokenizers.set(
        modelDir,
        (async () => {
          const [tokenizer, vocab] = await Promise.all([loadTokenizer({ kind: 'folder', path: modelDir }), readVocabPieces(modelDir)]);
          return toEvalTokenizer(tokenizer, vocab.pieces, vocab.padId);
        })(),
      );
    }
    return tokenizers.get(modelDir)!;
  };
  const splicerFor = async (input: EvaluateInput): Promise<Splicer & { dispose(): Promise<void> }> => {
    const modelDir = modelDirOf(deps.store, input.model);
    const splicer = await createSplicer({ modelDir, layer: input.spec.model.layer, device: deps.device, intraOpThreads: input.spec.threads, graphDir: graphDirOf(deps.dataDir, input.model) });
    const cacheDir = join(deps.dataDir, 'cache', 'residuals', `${input.model.summary.modelHash.slice(0, 16)}-L${input.spec.model.layer}`);
    return withResidualCache(splicer, cacheDir);
  };

  return {
    /** One eval family of one SAE; writes `<family>.json` (SAEBench field names) and side files. */
    async evaluateSae(input: EvaluateInput): Promise<StageResult<Omit<EvaluateSummary, 'output'> & { metrics: unknown }>> {
      const { spec, family } = input;
      const label = variantLabel(spec.sae.variants[input.variantIndex]);
      const options = spec.evaluate.options;
      const inputs = [input.sae.key, input.model.ref.key, ...input.evalShards.map((r) => r.key), ...(family === 'sparse_probing' ? [input.corpus.ref.key] : [])];
      return runStageActivity(deps, { stage: 'evaluate', codeVersion: EVALUATE_CODE_VERSION, config: { family, label, options: options[family], layer: spec.model.layer }, inputs }, async ({ workDir }, ctx) => {
        const sae = await loadSae(deps.store.pathOf(input.sae), { device: deps.device, threads: spec.threads });
        const splicer = NEEDS_MODEL[family] ? await splicerFor(input) : undefined;
        try {
          const modelDir = modelDirOf(deps.store, input.model);
          const summary = await evaluateSae(
            family,
            options,
            {
              label,
              sae,
              inputKey: inputs.join(','),
              table: family === 'core' || family === 'temporal' ? await evalTableOf(deps.store, input.evalShards) : undefined,
              splicer,
              tokenizer: family === 'absorption' || family === 'sparse_probing' ? await evalTokenizer(modelDir) : undefined,
              probeExamples: family === 'sparse_probing' ? await probeExamples(corpusPathOf(deps.store, input.corpus)) : undefined,
            },
            workDir,
            ctx,
          );
          const { output, ...rest } = summary;
          return { ...rest, metrics: (output as { eval_result_metrics?: unknown }).eval_result_metrics ?? null };
        } finally {
          await splicer?.dispose();
          await sae.dispose();
        }
      });
    },

    /** Feature-browser data of one SAE: top contexts, histograms and logit effects per latent. */
    async collectFeatures(input: Omit<EvaluateInput, 'family'> & { temporal: ArtifactRef | null }): Promise<StageResult<{ file: string; latents: number; tokensScanned: number }>> {
      const { spec } = input;
      return runStageActivity(
        deps,
        { stage: 'features', codeVersion: FEATURES_CODE_VERSION, config: { layer: spec.model.layer }, inputs: [input.sae.key, input.model.ref.key, ...input.evalShards.map((r) => r.key), input.temporal?.key ?? 'no-temporal'] },
        async ({ workDir }, ctx) => {
          const modelDir = modelDirOf(deps.store, input.model);
          const sae = await loadSae(deps.store.pathOf(input.sae), { device: deps.device, threads: spec.threads });
          try {
            const [table, tokenizer, unembedding, clusters] = await Promise.all([
              evalTableOf(deps.store, input.evalShards),
              evalTokenizer(modelDir),
              readUnembedding(modelDir),
              input.temporal ? temporalClusters(deps.store.pathOf(input.temporal)) : Promise.resolve(undefined),
            ]);
            const vocab = tokenizer.vocab();
            const features: FeatureBrowserVariant = await collectFeatureBrowserData(
              { encoder: sae, table, decode: (ids) => ids.map((id) => vocab[id] ?? `<${id}>`), unembed: { values: unembedding.weights, vocab: unembedding.vocabSize }, clusters },
              ctx,
            );
            await writeJsonAtomic(join(workDir, FEATURES_FILE), features);
            return { file: FEATURES_FILE, latents: features.latents.length, tokensScanned: features.tokensScanned };
          } finally {
            await sae.dispose();
          }
        },
      );
    },
  };
}

/** Labelled texts of every probing task the corpus has labels for (The Pile: source sets only). */
async function probeExamples(corpusPath: string): Promise<ProbeExample[]> {
  const all: ProbeExample[] = [];
  for (const task of PROBE_TASKS) {
    const examples = await loadProbeTask(corpusPath, task, { minPerLabel: 10 });
    if (new Set(examples.map((e) => e.label)).size >= 2) all.push(...examples.map(({ text, label, split }) => ({ task: String(task), text, label, split })));
  }
  return all;
}

/** Latent -> cluster id from the temporal eval's output, when it clustered. */
async function temporalClusters(dir: string): Promise<Map<number, number> | undefined> {
  const { readFile } = await import('node:fs/promises');
  const output = JSON.parse(await readFile(join(dir, 'temporal.json'), 'utf8')) as { analysis?: { features?: number[]; clusters?: number[] } | null };
  const analysis = output.analysis;
  if (!analysis?.features || !analysis.clusters) return undefined;
  return new Map(analysis.features.map((latent, i) => [latent, analysis.clusters![i]]));
}
