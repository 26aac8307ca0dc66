/**
 * What the evals of a demo run cost (issue 13): every family for every trained SAE of a finished
 * demo data directory, plus the run-level KL/CE splice of all of them, timed part by part (wall
 * and process CPU seconds), with the numbers the lead needs to size the demo (letters passing,
 * probe test texts, chosen k, splice tokens). Runs sequentially in one process, as one worker
 * would with concurrency 1; model passes of absorption and probing go through the residual cache
 * as in the pipeline, so the first SAE pays for them and the others reuse them.
 *
 *   node dist/bench/evaluate-demo-cost.js --data-dir /work/data/demo-base [--windows 160]
 *        [--options options.json] [--out /tmp/dir] [--threads 2] [--families core,temporal,...] [--no-splice]
 *
 * --options is a partial spec.evaluate.options (EvalOptions); DEMO_EVAL_OPTIONS otherwise.
 * Eval windows are the data directory's held-out (test split) extraction parts, topped up with
 * train-split windows when fewer than --windows exist (the cost per window is the same).
 */
import { readdir, readFile, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivationTable } from '../schemas/activation-shard.js';
import { EvalOptions, type EvalFamily } from '../schemas/eval.js';
import { defaultStageContext } from '../lib/core/context.js';
import { PROBE_TASKS, loadProbeTask } from '../stages/corpus/probe-tasks.js';
import { splitWindows } from '../stages/evaluate/activation-windows.js';
import { evaluateSae } from '../stages/evaluate/evaluate-sae.js';
import type { ProbeExample } from '../stages/evaluate/interfaces.js';
import { evaluateSplice } from '../stages/evaluate/splice-eval.js';
import { readVocabPieces, toEvalTokenizer } from '../stages/evaluate/tokenizer-adapter.js';
import { readActivationShard } from '../stages/extract/activation-shard-io.js';
import { concatActivationTables } from '../stages/extract/concat-tables.js';
import { withResidualCache } from '../stages/model/residual-cache.js';
import { createSplicer } from '../stages/model/splice.js';
import { loadTokenizer } from '../stages/tokenize/load-tokenizer.js';
import { loadSae, type SaeRuntime } from '../stages/train/sae-runtime.js';

/** The eval options proposed for the demo preset (issue 13), measured by this script. */
export const DEMO_EVAL_OPTIONS = {
  core: { batch_size_prompts: 16, n_eval_reconstruction_batches: 10 },
  absorption: { llm_batch_size: 64 },
  sparse_probing: { probe_train_set_size: 200, probe_test_set_size: 500, context_length: 32, llm_batch_size: 32 },
};

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function manifests(dir: string): Promise<{ path: string; manifest: Record<string, any> }[]> {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const key of (await readdir(dir)).sort()) {
    const file = join(dir, key, 'manifest.json');
    if (existsSync(file)) out.push({ path: join(dir, key), manifest: JSON.parse(await readFile(file, 'utf8')) });
  }
  return out;
}

/** The first `windows` context windows: test-split parts first, then train-split ones. */
async function evalTable(dataDir: string, windows: number): Promise<{ table: ActivationTable; fromTrain: number }> {
  const parts = await manifests(join(dataDir, 'artifacts', 'extract'));
  const ordered = [...parts.filter((p) => p.manifest.config.unit.split !== 'train'), ...parts.filter((p) => p.manifest.config.unit.split === 'train')];
  const tables: ActivationTable[] = [];
  let have = 0;
  let fromTrain = 0;
  for (const p of ordered) {
    if (have >= windows) break;
    for (const part of p.manifest.summary.parts as { file: string }[]) {
      if (have >= windows) break;
      const t = await readActivationShard(join(p.path, part.file));
      const n = splitWindows(t).length;
      if (p.manifest.config.unit.split === 'train') fromTrain += Math.min(n, windows - have);
      tables.push(t);
      have += n;
    }
  }
  const all = concatActivationTables(tables);
  const cut = splitWindows(all).slice(0, windows);
  const end = cut[cut.length - 1].start + cut[cut.length - 1].length;
  const d = all.dModel;
  return {
    table: {
      ...all, count: end, values: all.values.subarray(0, end * d) as Uint16Array, tokenIds: all.tokenIds.subarray(0, end), rowIds: all.rowIds.subarray(0, end),
      positions: all.positions.subarray(0, end), docIndex: all.docIndex.subarray(0, end), isSpecial: all.isSpecial.subarray(0, end), sourceSets: all.sourceSets.slice(0, end),
    },
    fromTrain,
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - wall) / 1000, cpu: (used.user + used.system) / 1e6, value };
}

async function main(): Promise<void> {
  const dataDir = arg('data-dir', '.tsae')!;
  const threads = Number(arg('threads', '2'));
  const out = arg('out') ?? (await mkdtemp(join(tmpdir(), 'tsae-eval-cost-')));
  const optionsFile = arg('options');
  const options = EvalOptions.parse(optionsFile ? JSON.parse(await readFile(optionsFile, 'utf8')) : DEMO_EVAL_OPTIONS);
  const model = (await manifests(join(dataDir, 'artifacts', 'model')))[0];
  const corpus = (await manifests(join(dataDir, 'artifacts', 'corpus')))[0];
  const trained = await manifests(join(dataDir, 'artifacts', 'train'));
  const { table, fromTrain } = await evalTable(dataDir, Number(arg('windows', '160')));
  const log = (event: string, data: Record<string, unknown>) => process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
  log('setup', { model: model.path, saes: trained.length, windows: splitWindows(table).length, tokens: table.count, windowsFromTrainSplit: fromTrain, out, options });
  const raw = await createSplicer({ modelDir: model.path, layer: 6, intraOpThreads: threads, graphDir: join(out, 'graphs') });
  const splicer = withResidualCache(raw, join(out, 'residuals'));
  const [tk, vocab] = await Promise.all([loadTokenizer({ kind: 'folder', path: model.path }), readVocabPieces(model.path)]);
  const tokenizer = toEvalTokenizer(tk, vocab.pieces, vocab.padId);
  const probeExamples: ProbeExample[] = [];
  for (const task of PROBE_TASKS) {
    const examples = await loadProbeTask(corpus.path, task, { minPerLabel: 10 });
    if (new Set(examples.map((e) => e.label)).size >= 2) probeExamples.push(...examples.map(({ text, label, split }) => ({ task: String(task), text, label, split })));
  }
  const saes: { label: string; dir: string; sae: SaeRuntime }[] = [];
  for (const [i, t] of trained.entries()) saes.push({ label: `${i}-${JSON.parse(await readFile(join(t.path, 'cfg.json'), 'utf8')).architecture}`, dir: t.path, sae: await loadSae(t.path, { threads }) });
  const ctx = defaultStageContext();
  const totals: Record<string, { wall: number; cpu: number }> = {};
  const add = (key: string, t: { wall: number; cpu: number }) => {
    totals[key] = { wall: (totals[key]?.wall ?? 0) + t.wall, cpu: (totals[key]?.cpu ?? 0) + t.cpu };
  };
  const families = (arg('families', 'core,temporal,absorption,sparse_probing') ?? '').split(',').filter(Boolean) as EvalFamily[];
  for (const family of families) {
    for (const s of saes) {
      const t = await timed(() => evaluateSae(family, options, { label: s.label, sae: s.sae, table, splicer, tokenizer, probeExamples }, join(out, s.label), ctx));
      add(family, t);
      log('family', { family, sae: s.label, wall_s: t.wall, cpu_s: t.cpu, parts: t.value.timing, summary: summarise(family, t.value.output) });
    }
  }
  if (!process.argv.includes('--no-splice')) {
    const splice = await timed(() =>
      evaluateSplice({ modelDir: model.path, layer: 6, saes: saes.map((s) => ({ label: s.label, dir: s.dir })), activationFiles: [], options: options.core }, join(out, 'splice'), ctx, { table, splicer: raw, saes }),
    );
    add('splice (run-level, all SAEs)', splice);
    log('splice', { wall_s: splice.wall, cpu_s: splice.cpu, parts: splice.value.timing, token_stats: splice.value.output.token_stats, saes: Object.fromEntries(Object.entries(splice.value.output.saes).map(([k, v]) => [k, { kl: v.eval_result_uncertainty.intervals.kl_div_score, ce: v.eval_result_uncertainty.intervals.ce_loss_score }])) });
  }
  log('totals', { totals, wall_s: Object.values(totals).reduce((a, t) => a + t.wall, 0), cpu_s: Object.values(totals).reduce((a, t) => a + t.cpu, 0) });
  await Promise.all(saes.map((s) => s.sae.dispose()));
  await raw.dispose();
}

/** The few numbers of a family's output that size and judge the demo. */
function summarise(family: EvalFamily, output: any): Record<string, unknown> {
  switch (family) {
    case 'core':
      return { l0: output.eval_result_metrics.sparsity.l0, ev: output.eval_result_uncertainty.intervals.explained_variance, ev_without_massive: output.eval_result_uncertainty.intervals.explained_variance_without_massive_dims, massive_dims: output.massive_activation_dims };
    case 'temporal':
      return { n_clusters: output.eval_result_metrics.temporal.n_clusters, gap: output.gap_statistic && { k: output.gap_statistic.k, gap: output.gap_statistic.gap, s_k: output.gap_statistic.s_k } };
    case 'absorption':
      return { status: output.status, letters_used: output.letters_used.length, deviations: output.deviations, mean: output.eval_result_metrics.mean, probe_f1: output.probe_f1 };
    case 'sparse_probing':
      return { deviations: output.deviations, tasks: output.eval_result_details.map((d: any) => ({ task: d.dataset_name, train: d.n_train_texts, test: d.n_test_texts })), sae: output.eval_result_uncertainty.intervals };
  }
}

await main();
