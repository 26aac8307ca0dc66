/**
 * What the evaluate stage really writes, for tests that check its files (eval-compat): the real
 * stages, called in this process through the activity adapter without Temporal (createActivities
 * with no stage-process runner, as benchmarks do), on the smoke preset's tiny fixture model and
 * corpus, one trained `standard` SAE, all four eval families, and the run-level KL / CE splice
 * merged into core.json as the report merges it (the run's metrics.json holds that core). About
 * half a minute on 2 busy cores.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreEvalOutput, EvalFamily, SpliceEvalOutput } from '../../schemas/eval.js';
import { mergeSpliceIntoCore, SPLICE_FILES } from '../../stages/evaluate/splice-eval.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { StageResult } from '../../schemas/pipeline.js';
import { createActivities } from '../../activities/index.js';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { silentLogger } from '../../lib/core/logger.js';
import { presetSpec } from '../../lib/spec/resolve-spec.js';

export const EVAL_FAMILIES: EvalFamily[] = ['core', 'absorption', 'sparse_probing', 'temporal'];

export interface RealEvalOutputs {
  /** `<family>.json` as the evaluate stage wrote it, parsed. */
  outputs: Record<EvalFamily, Record<string, unknown>>;
  /** Each family's artifact folder. */
  dirs: Record<EvalFamily, string>;
  label: string;
}

/** Runs the stages from the spec to the evals in `dataDir` (a fresh folder) and reads the eval JSON. */
export async function realEvalOutputs(dataDir: string): Promise<RealEvalOutputs> {
  const store = new ArtifactStore(dataDir);
  const acts = createActivities({ store, dataDir, device: 'cpu', log: silentLogger, runner: null });
  const runSpec = presetSpec('smoke', { 'sae.variants': [{ variant: 'standard' }], 'evaluate.families': EVAL_FAMILIES });
  const init = await acts.initRun({ runId: 'eval-outputs', runSpec });
  const spec = init.summary.spec;
  const model = await acts.prepareModel({ spec });
  const corpus = await acts.prepareCorpus({ spec });
  const corpusPlan = await acts.planCorpus({ spec, corpus });
  const shards: StageResult<unknown>[] = [];
  for (let index = 0; index < corpusPlan.summary.count; index++) shards.push(await acts.tokenizeShard({ spec, model, corpus, plan: { plan: corpusPlan.ref, index } }));
  const tokenSet = await acts.writeSet({ spec, kind: 'tokenize', items: shards as never });
  const extractPlan = await acts.planExtraction({ spec, tokenShards: [tokenSet.ref] });
  const extractSet = async (start: number, end: number): Promise<ArtifactRef> => {
    const items: StageResult<unknown>[] = [];
    for (let index = start; index < end; index++) items.push(await acts.extractShard({ spec, model, unit: { plan: extractPlan.ref, index } }));
    return (await acts.writeSet({ spec, kind: 'extract', items: items as never })).ref;
  };
  const { train, eval: evalUnits } = extractPlan.summary.units;
  const trainSet = await extractSet(0, train);
  const evalSet = await extractSet(train, train + evalUnits);
  const label = 'standard';
  const sae = await acts.trainSae({ spec, variantIndex: 0, trainSet });
  const outputs = {} as RealEvalOutputs['outputs'];
  const dirs = {} as RealEvalOutputs['dirs'];
  for (const family of EVAL_FAMILIES) {
    const result = await acts.evaluateSae({ spec, label, family, sae: sae.ref, model, corpus, evalSet });
    dirs[family] = store.pathOf(result.ref);
    outputs[family] = JSON.parse(await readFile(join(dirs[family], `${family}.json`), 'utf8'));
  }
  const splice = await acts.spliceSaes({ spec, saes: [{ label, sae: sae.ref }], model, evalSet });
  const spliceOutput = JSON.parse(await readFile(join(store.pathOf(splice.ref), SPLICE_FILES.output), 'utf8')) as SpliceEvalOutput;
  outputs.core = mergeSpliceIntoCore(outputs.core as unknown as CoreEvalOutput, spliceOutput, label) as unknown as Record<string, unknown>;
  return { outputs, dirs, label };
}
