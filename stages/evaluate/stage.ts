/**
 * evaluateSae: one eval family of one SAE; writes `<family>.json` (SAEBench field names) and
 * side files. What each family needs (held-out activations, the model around the hooked layer,
 * the tokenizer, labelled texts) is declared here, in one place.
 */
import { join } from 'node:path';
import type { EvalFamily } from '../../schemas/eval.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { CorpusSummary, ModelSummary, SpecRef, StageResult } from '../../schemas/pipeline.js';
import { sha256File } from '../../lib/core/atomic-fs.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage, type StageDeps } from '../../lib/stage/stage-definition.js';
import { PROBE_TASKS, loadProbeTask } from '../corpus/probe-tasks.js';
import { corpusPathOf } from '../corpus/corpus-paths.js';
import { evalTableOf } from '../extract/activation-sets.js';
import { withResidualCache } from '../model/residual-cache.js';
import { createSplicer } from '../model/splice.js';
import { graphDirOf, modelDirOf } from '../model/model-paths.js';
import { loadImportedSae } from '../external-sae/imported-sae-runtime.js';
import { trainingNormCut } from './norm-outliers.js';
import { evaluateSae, type EvaluateSummary } from './evaluate-sae.js';
import { evalTokenizer } from './eval-tokenizer.js';
import type { ProbeExample, Splicer } from './interfaces.js';

export interface EvaluateStageInput {
  spec: SpecRef;
  /** The SAE's label (a trained variant's or an external SAE's name): written into the outputs. */
  label: string;
  family: EvalFamily;
  sae: ArtifactRef;
  model: StageResult<ModelSummary>;
  corpus: StageResult<CorpusSummary>;
  evalSet: ArtifactRef;
}

/** What each family reads besides the SAE. */
export const FAMILY_NEEDS: Record<EvalFamily, { activations: boolean; model: boolean; tokenizer: boolean; probeTexts: boolean }> = {
  // Core's KL / CE splice runs once per run for all SAEs (splice-stage.ts): no model here.
  core: { activations: true, model: false, tokenizer: false, probeTexts: false },
  absorption: { activations: false, model: true, tokenizer: true, probeTexts: false },
  sparse_probing: { activations: false, model: true, tokenizer: true, probeTexts: true },
  temporal: { activations: true, model: false, tokenizer: false, probeTexts: false },
};

export type EvaluateStageSummary = Omit<EvaluateSummary, 'output'> & { metrics: unknown };

export const evaluateStage = defineStage<EvaluateStageInput, EvaluateStageSummary>({
  name: 'evaluate',
  module: import.meta.url,
  resources: 'compute',
  cached: true,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    const needs = FAMILY_NEEDS[input.family];
    const options = spec.evaluate.options[input.family];
    // Labelled-text files enter the key by content, not by path.
    const datasetFiles = input.family === 'sparse_probing' ? await Promise.all(spec.evaluate.options.sparse_probing.dataset_files.map((f) => sha256File(f))) : [];
    const inputs = [input.sae.key, input.model.ref.key, ...(needs.activations ? [input.evalSet.key] : []), ...(needs.probeTexts ? [input.corpus.ref.key] : [])];
    return {
      // The device enters the key off the CPU: CUDA kernels give other bytes.
      config: { family: input.family, label: input.label, options, datasetFiles, layer: spec.model.layer, salt: spec.cacheSalt ?? null, ...(deps.device === 'cpu' ? {} : { device: deps.device }) },
      inputs,
    };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { family } = input;
    const needs = FAMILY_NEEDS[family];
    const modelDir = modelDirOf(deps.dataDir, input.model);
    const sae = await loadImportedSae(deps.store.pathOf(input.sae), { device: deps.device, threads: spec.threads });
    const splicer = needs.model ? await splicerFor(deps, input, spec.threads) : undefined;
    try {
      const summary = await evaluateSae(
        family,
        spec.evaluate.options,
        {
          label: input.label,
          sae,
          inputKey: [input.sae.key, input.model.ref.key, input.evalSet.key].join(','),
          table: needs.activations ? await evalTableOf(deps.store, input.evalSet) : undefined,
          splicer,
          tokenizer: needs.tokenizer ? await evalTokenizer(modelDir) : undefined,
          probeExamples: needs.probeTexts ? await probeExamples(corpusPathOf(deps.store, input.corpus)) : undefined,
          cacheDir: join(deps.dataDir, 'cache', 'absorption-truth'),
          normCut: await trainingNormCut(deps.store.pathOf(input.sae)),
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
  },
});

async function splicerFor(deps: StageDeps, input: EvaluateStageInput, threads: number): Promise<Splicer & { dispose(): Promise<void> }> {
  const spec = await loadSpec(deps.store, input.spec);
  const modelDir = modelDirOf(deps.dataDir, input.model);
  const splicer = await createSplicer({ modelDir, layer: spec.model.layer, device: deps.device, intraOpThreads: threads, graphDir: graphDirOf(deps.dataDir, input.model) });
  const cacheDir = join(deps.dataDir, 'cache', 'residuals', `${input.model.summary.modelHash.slice(0, 16)}-L${spec.model.layer}`);
  return withResidualCache(splicer, cacheDir);
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
