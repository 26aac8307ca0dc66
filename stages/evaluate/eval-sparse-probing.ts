import type { SparseProbingEvalConfig, SparseProbingEvalOutput } from '../../schemas/eval.js';
import type { StageContext } from '../../lib/core/context.js';
import { throwIfAborted } from '../../lib/core/context.js';
import { normalInterval } from './bootstrap.js';
import type { EvalTokenizer, ProbeExample, SaeForEval, Splicer } from './interfaces.js';
import { collectPooledActivations } from './pooling.js';
import { splitProbeDatasets } from './probe-datasets.js';
import { createRng } from './random.js';
import { averageRecords, binomialStdErrors, probeTask, type TaskProbeResult } from './sparse-probing.js';

export const SPARSE_PROBING_DEFINITIONS: Record<string, string> = {
  procedure: 'SAEBench sparse probing: per task and class, one-vs-rest with negatives drawn evenly from the other classes',
  pooling: 'mean over the non-special tokens of the first context_length tokens of each text',
  features: 'top-k latents (or residual dimensions) by |mean_pos - mean_neg| on the train set',
  probe: 'L2 logistic regression, C = 1 (scikit-learn lbfgs objective, solved to convergence)',
  metric: 'test accuracy, mean over classes, then over tasks',
  llm_test_accuracy: 'the same probe on all residual dimensions (SAEBench trains this one with AdamW on a GPU)',
  test_texts: 'min_test_texts_per_task: a task whose test pools are smaller gets train texts moved to test (deviations say so)',
  uncertainty: 'binomial standard error p(1 - p) / n of each one-vs-rest test accuracy, propagated through the means over classes and tasks',
};

/** Per-task results are saved as they finish, so an interrupted eval resumes at the next task. */
export interface TaskCheckpoint {
  load(task: string): Promise<TaskProbeResult | null>;
  save(task: string, result: TaskProbeResult): Promise<void>;
}

export async function runSparseProbingEval(
  examples: Iterable<ProbeExample>,
  deps: { tokenizer: EvalTokenizer; splicer: Splicer; dIn: number; saes: readonly SaeForEval[] },
  config: SparseProbingEvalConfig,
  ctx: StageContext,
  checkpoint: TaskCheckpoint | null = null,
): Promise<TaskProbeResult[]> {
  const rng = createRng(config.random_seed);
  const wanted = config.tasks ? new Set(config.tasks) : null;
  const datasets = splitProbeDatasets(
    [...examples].filter((e) => !wanted || wanted.has(e.task)),
    {
      trainPerClass: Math.floor(config.probe_train_set_size / 2),
      testPerClass: Math.floor(config.probe_test_set_size / 2),
      minExamplesPerClass: config.min_examples_per_class,
      minTestPerTask: config.min_test_texts_per_task,
    },
    rng,
    ctx.log,
  );
  const results: TaskProbeResult[] = [];
  for (const dataset of datasets) {
    throwIfAborted(ctx.signal);
    const saved = await checkpoint?.load(dataset.task);
    if (saved) {
      results.push(saved);
      continue;
    }
    const pool = (texts: string[][], label: string) =>
      collectPooledActivations(texts.flat(), deps, { contextLength: config.context_length, batchSize: config.llm_batch_size, label }, ctx);
    const train = await pool(dataset.train, `probe ${dataset.task} train`);
    const test = await pool(dataset.test, `probe ${dataset.task} test`);
    const result = probeTask(
      { task: dataset.task, classes: dataset.classes, trainCounts: dataset.train.map((t) => t.length), testCounts: dataset.test.map((t) => t.length), deviations: dataset.deviations },
      train,
      test,
      deps.dIn,
      { kValues: config.k_values, fullLlmProbe: config.include_llm_full_probe, fullSaeProbe: config.include_sae_full_probe },
      createRng(config.random_seed + results.length + 1),
    );
    await checkpoint?.save(dataset.task, result);
    ctx.log.info('probe task done', { task: dataset.task, classes: dataset.classes.length, llm: result.llm, sae: result.sae });
    results.push(result);
  }
  return results;
}

/** SAEBench-shaped JSON for SAE number `index` of the results. */
export function sparseProbingOutput(
  tasks: readonly TaskProbeResult[],
  index: number,
  config: SparseProbingEvalConfig,
  header: { eval_id: string; datetime_epoch_millis: number; sae_label: string; timing: Record<string, number> },
): SparseProbingEvalOutput {
  const llm = averageRecords(tasks.map((t) => t.llm));
  const sae = averageRecords(tasks.map((t) => t.sae[index]));
  const se = { ...binomialStdErrors(tasks, (c) => c.llm), ...binomialStdErrors(tasks, (c) => c.sae[index]) };
  const estimates: Record<string, number> = { ...llm, ...sae };
  return {
    eval_type_id: 'sparse_probing',
    ...header,
    definitions: SPARSE_PROBING_DEFINITIONS,
    eval_config: config,
    ...(tasks.length === 0 ? { status: 'no probing task with two classes of enough examples' } : {}),
    deviations: tasks.flatMap((t) => t.deviations.map((d) => `${t.dataset_name}: ${d}`)),
    eval_result_metrics: { llm, sae },
    eval_result_details: tasks.map((t) => ({ dataset_name: t.dataset_name, n_train_texts: t.trainTexts, n_test_texts: t.testTexts, ...t.llm, ...t.sae[index] })),
    eval_result_unstructured: Object.fromEntries(
      tasks.map((t) => [t.dataset_name, Object.fromEntries(Object.entries(t.perClass).map(([label, r]) => [label, { ...r.llm, ...r.sae[index], n_test_examples: r.testExamples }]))]),
    ),
    eval_result_uncertainty: {
      method: 'binomial standard error p(1 - p) / n_test of each one-vs-rest probe, propagated through the means over classes then tasks (independent test sets assumed); interval estimate +- z SE',
      unit: 'test text',
      level: config.confidence_level,
      resamples: null,
      seed: null,
      intervals: Object.fromEntries(Object.entries(estimates).map(([k, v]) => [k, normalInterval(v, se[k] ?? NaN, config.confidence_level)])),
    },
  };
}
