/**
 * The pipeline DAG: run record -> model + corpus -> corpus plan -> tokenize (fan-out trees, in
 * waves until the token budgets are met) -> extraction plan -> extract (fan-out trees, train and
 * eval) -> one child workflow per SAE variant (train -> evals -> features, in parallel) ->
 * report. Orchestration only: every stage is an activity that returns an artifact reference;
 * plans and fan-out results are artifacts, passed by reference.
 *
 * Deploys: changes to this file that alter the commands an open run replays go behind
 * `patched('<id>')` (see docs/architecture.md, "Deploying workflow changes").
 */
import { executeChild, patched, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef } from '../schemas/manifest.js';
import type { PipelineInput, PipelineResult, RunSettings, StageResult, VariantResult } from '../schemas/pipeline.js';
import { variantLabel } from '../schemas/derived.js';
import { workflowUiPath } from '../lib/core/ui-url.js';
import { callActivity } from './calls.js';
import { fanOutWorkflow, runAttributes, type FanOutInput, type FanOutResult } from './fan-out.js';
import { budgetsMet, tokenizeWaveSize, type TokenTotals } from './plan.js';
import { StageRunner } from './stage-runner.js';
import { trainVariantWorkflow } from './train-variant.js';

export async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  const runSpec = input.spec;
  const runId = workflowInfo().workflowId;
  const rootId = input.rootId ?? runId;
  const settings: RunSettings = {
    device: runSpec.device,
    heartbeatTimeoutSeconds: runSpec.temporal.heartbeatTimeoutSeconds,
    awaitResumeHours: runSpec.temporal.awaitResumeHours,
    fanOutWindow: runSpec.temporal.fanOutWindow,
    fanOutBatch: runSpec.temporal.fanOutBatch,
  };
  const runner = new StageRunner(runId, { awaitResumeHours: settings.awaitResumeHours, rootId });
  const call = (id: string, summary: string) => ({ id, summary, settings });

  try {
    const init = await runner.run('init', (n) => callActivity('initRun', { runId, runSpec }, call(`init#${n}`, 'run folder and spec')));
    const spec = init.summary.spec;
    const [model, corpus] = await Promise.all([
      runner.run('model', (n) => callActivity('prepareModel', { spec }, call(`model#${n}`, `prepare model ${runSpec.model.source}`))),
      runner.run('corpus', (n) => callActivity('prepareCorpus', { spec }, call(`corpus#${n}`, `prepare corpus ${runSpec.corpus.source}`))),
    ]);
    const corpusPlan = await runner.run('plan corpus', (n) => callActivity('planCorpus', { spec, corpus }, call(`plan-corpus#${n}`, 'split the corpus into shards')));

    const fanOut = (name: string, base: Omit<FanOutInput, 'spec' | 'settings' | 'rootId' | 'label'>): Promise<FanOutResult> => {
      const childId = `${runId}/${name.replace(/\s+/g, '-')}`;
      runner.setChild(name, childId);
      return executeChild(fanOutWorkflow, {
        workflowId: childId,
        args: [{ ...base, spec, settings, rootId, label: name }],
        staticSummary: `${name}: ${base.end - base.start} units`,
        typedSearchAttributes: runAttributes(rootId),
      }).finally(() => runner.removeChild(name));
    };

    // Tokenize in waves sized to what the budgets still need; stop as soon as they are met.
    const tokenSets: ArtifactRef[] = [];
    const totals: TokenTotals = { train: 0, test: 0 };
    for (let next = 0, wave = 1; next < corpusPlan.summary.count && !budgetsMet(totals, runSpec); wave++) {
      const end = Math.min(corpusPlan.summary.count, next + tokenizeWaveSize(corpusPlan.summary, totals, runSpec));
      const result = await fanOut(`tokenize wave ${wave}`, {
        work: { kind: 'tokenize', model, corpus },
        plan: corpusPlan.ref,
        start: next,
        end,
        labelOffset: 0,
        labelTotal: corpusPlan.summary.count,
      });
      tokenSets.push(result.set);
      totals.train += result.totals['tokensBySplit.train'] ?? 0;
      totals.test += result.totals['tokensBySplit.test'] ?? 0;
      next = end;
    }

    const extractPlan = await runner.run('plan extraction', (n) => callActivity('planExtraction', { spec, tokenShards: tokenSets }, call(`plan-extract#${n}`, 'rows to extract')));
    const units = extractPlan.summary.units;
    const [trainSet, evalSet] = await Promise.all([
      fanOut('extract train', { work: { kind: 'extract', model }, plan: extractPlan.ref, start: 0, end: units.train, labelOffset: 0, labelTotal: units.train }),
      fanOut('extract eval', { work: { kind: 'extract', model }, plan: extractPlan.ref, start: units.train, end: units.train + units.eval, labelOffset: units.train, labelTotal: units.eval }),
    ]);
    const tokens = { train: trainSet.totals.tokens ?? 0, eval: evalSet.totals.tokens ?? 0 };

    // One child per SAE: the variants to train, then the external SAEs to import and evaluate.
    const saes = [
      ...runSpec.sae.variants.map((variant, variantIndex) => ({ label: variantLabel(variant), source: { kind: 'train' as const, variantIndex }, what: `train ${variant.variant}` })),
      ...runSpec.sae.external.map((entry, index) => ({ label: entry.name, source: { kind: 'external' as const, index }, what: `import ${entry.path}` })),
    ];
    const variants: VariantResult[] = await Promise.all(
      saes.map(({ label, source, what }) => {
        const workflowId = `${runId}--${label}`;
        runner.setChild(label, workflowId);
        return executeChild(trainVariantWorkflow, {
          workflowId,
          staticSummary: `SAE ${label}: ${what}; ${runSpec.evaluate.families.join(', ')}`,
          typedSearchAttributes: runAttributes(rootId),
          args: [{ spec, settings, families: runSpec.evaluate.families, source, label, rootId, model, corpus, trainSet: trainSet.set, evalSet: evalSet.set }],
        }).finally(() => runner.removeChild(label));
      }),
    );

    const allStages = () => [...runner.progress().stages, ...variants.flatMap((v) => v.stages.map((s) => ({ ...s, name: `${v.label}/${s.name}` })))];
    const namespace = workflowInfo().namespace;
    const temporalLinks = [
      { label: 'pipeline workflow', path: workflowUiPath(namespace, runId) },
      ...variants.map((v) => ({ label: `${v.label} child workflow`, path: workflowUiPath(namespace, `${runId}--${v.label}`) })),
    ];
    // The KL / CE splice of every SAE at once: the clean and zero-ablated model passes are shared
    // (issue 13). Open runs recorded before it existed replay without it (docs/architecture.md).
    const splice =
      runSpec.evaluate.families.includes('core') && variants.length > 0 && patched('2026-12-splice-all-saes')
        ? await runner.run('splice', (n) =>
            callActivity(
              'spliceSaes',
              { spec, saes: variants.map((v) => ({ label: v.label, sae: v.sae.ref })), model, evalSet: evalSet.set },
              call(`splice#${n}`, `KL / CE splice of ${variants.length} SAEs`),
            ),
          )
        : null;
    const report = await runner.run('report', (n) =>
      callActivity('writeReport', { spec, runId, model, variants, splice: splice?.ref ?? null, stages: allStages(), tokens, temporalLinks }, call(`report#${n}`, 'metrics.json and the HTML report')),
    );
    runner.setMemo({ report: `${report.summary.runDir}/report/index.html`, headline: headline(variants) });
    runner.finish('completed');
    const computeStages = allStages().filter((s) => s.name !== 'report' && s.name !== 'init' && !s.name.startsWith('plan'));
    return { runId, runDir: init.summary.runDir, variants, stages: allStages(), allCacheHits: computeStages.every((s) => s.cacheHit === true) };
  } catch (error) {
    runner.fail(error);
    throw error;
  }
}

/** A few numbers per variant for the memo (the UI shows them without opening the report). */
function headline(variants: VariantResult[]): Record<string, Record<string, number>> {
  const pick = (result: StageResult<unknown> | undefined, keys: string[]): Record<string, number> => {
    const flat: Record<string, number> = {};
    const walk = (value: unknown) => {
      if (!value || typeof value !== 'object') return;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v === 'number' && keys.includes(k)) flat[k] = Math.round(v * 1000) / 1000;
        else walk(v);
      }
    };
    walk((result?.summary as { metrics?: unknown } | undefined)?.metrics);
    return flat;
  };
  return Object.fromEntries(variants.map((v) => [v.label, pick(v.evals.core, ['l0', 'explained_variance', 'kl_div_score'])]));
}
