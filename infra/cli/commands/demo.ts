import { join } from 'node:path';
import type { Command } from 'commander';
import { startDevServer } from '../../temporal/dev-server.js';
import { abortOnSignals, globalOptions, loggerOf, parseIntOption, targetOf } from './common.js';
import { devServerFiles, warnAboutForeignWorkers } from './dev.js';
import { resolveSpec, startPipeline } from './run.js';

/**
 * The main job on embedded defaults: the local dev server (started or reused, UI on
 * 127.0.0.1:8233), a worker in this process, and the demo preset end to end. Prints the
 * report's path when it lands.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the demo end to end on this machine: dev server + Web UI, a worker, and the demo preset (Gemma 3 270M on the mini-pile)')
    .option('--preset <name>', 'preset to run', 'demo')
    .option('--set <key=value>', 'override a spec field (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--port <port>', 'Temporal gRPC port', parseIntOption('port', 1), 7233)
    .option('--ui-port <port>', 'Web UI port', parseIntOption('ui-port', 1), 8233)
    .option('--concurrency <n>', 'activities at once in the worker (2 overlaps JavaScript-bound probe fits with onnxruntime work)', parseIntOption('concurrency', 1), 2)
    .action(async (options: { preset: string; set: string[]; port: number; uiPort: number; concurrency: number }, command: Command) => {
      const global = globalOptions(command);
      const spec = await resolveSpec(undefined, options);
      const log = loggerOf(global, { component: 'demo' });
      const server = await startDevServer({ ...devServerFiles(global), port: options.port, uiPort: options.uiPort });
      process.stderr.write(`Temporal at ${server.address}; Web UI at ${server.uiUrl}\n`);
      if (server.reused) await warnAboutForeignWorkers(global, server.address);
      const controller = new AbortController();
      const release = abortOnSignals(controller);
      const target = { ...targetOf(global), address: server.address };
      const { runWorkers, queuesOf } = await import('../../worker/worker.js');
      const worker = runWorkers({ target, dataDir: global.dataDir, queues: queuesOf('all', spec.device), device: spec.device, concurrency: options.concurrency, log, logLevel: global.logLevel, signal: controller.signal });
      try {
        const { workflowId, status } = await startPipeline({ ...global, address: server.address }, spec, { watch: true, signal: controller.signal });
        if (status === 'completed') process.stderr.write(`Report: ${join(global.dataDir, 'runs', workflowId, 'report', 'index.html')}\n`);
        else if (controller.signal.aborted) process.stderr.write(`Interrupted; the run stays in Temporal: \`tsae dev\` then \`tsae status ${workflowId}\` to continue it.\n`);
        else process.exitCode = 1;
      } finally {
        controller.abort();
        await worker.catch((error) => log.error('worker stopped with an error', { error: String(error) }));
        release();
        await server.stop();
      }
    });
}
