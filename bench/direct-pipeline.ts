/**
 * The pipeline DAG executed by plain calls of the same activity functions, without Temporal:
 * the baseline of the orchestration-overhead benchmark. Sequential, in the workflow's order.
 */
import { createActivities } from '../activities/index.js';
import type { StageResult, TokenShardSummary } from '../schemas/pipeline.js';
import type { RunSpec } from '../schemas/run-spec.js';
import { ArtifactStore } from '../lib/artifacts/store.js';
import { silentLogger } from '../lib/core/logger.js';
import { budgetsMet, planExtraction, tokenizeWaveSize } from '../workflows/plan.js';

export async function runPipelineDirect(spec: RunSpec, dataDir: string, runId: string): Promise<void> {
  const acts = createActivities({ store: new ArtifactStore(dataDir), dataDir, device: spec.device, log: silentLogger });
  await acts.initRun({ runId, spec });
  const model = await acts.prepareModel({ spec });
  const corpus = await acts.prepareCorpus({ spec });
  const plans = await acts.planCorpus({ spec, corpus });
  const tokenShards: StageResult<TokenShardSummary>[] = [];
  const wave = tokenizeWaveSize(plans, spec);
  for (let next = 0; next < plans.length && !budgetsMet(tokenShards, spec); next += wave) {
    for (const plan of plans.slice(next, next + wave)) tokenShards.push(await acts.tokenizeShard({ spec, model, corpus, plan }));
  }
  const units = planExtraction(tokenShards, spec);
  const activations = [];
  for (const unit of units) activations.push(await acts.extractShard({ spec, model, unit }));
  const trainShards = activations.filter((_, i) => units[i].purpose === 'train').map((a) => a.ref);
  const evalShards = activations.filter((_, i) => units[i].purpose === 'eval').map((a) => a.ref);
  const variants = [];
  for (const [variantIndex] of spec.sae.variants.entries()) {
    const sae = await acts.trainSae({ spec, variantIndex, trainShards });
    const evals: Record<string, StageResult<unknown>> = {};
    for (const family of spec.evaluate.families) evals[family] = await acts.evaluateSae({ spec, variantIndex, family, sae: sae.ref, model, corpus, evalShards });
    const features = await acts.collectFeatures({ spec, variantIndex, sae: sae.ref, model, corpus, evalShards, temporal: evals.temporal?.ref ?? null });
    variants.push({ label: spec.sae.variants[variantIndex].name ?? spec.sae.variants[variantIndex].variant, sae, evals, features, stages: [] });
  }
  const tokens = { train: activations.filter((_, i) => units[i].purpose === 'train').reduce((s, a) => s + a.summary.tokens, 0), eval: 0 };
  await acts.writeReport({ runId, spec, model, variants, stages: [], tokens });
}
