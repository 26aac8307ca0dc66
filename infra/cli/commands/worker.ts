import { Option, type Command } from 'commander';
import { DEVICES, type Device } from '../../../lib/core/devices.js';
import { abortOnSignals, globalOptions, loggerOf, parseIntOption, targetOf } from './common.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker against a Temporal server (TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
    .addOption(
      new Option('--queue <queue>', 'task queues: workflows (workflow code only), cpu (corpus, tokenize, report, and compute when the spec says cpu), gpu (model and SAE compute for cuda/webgpu specs), or all (workflows + cpu, + gpu with --device cuda|webgpu)')
        .choices(['workflows', 'cpu', 'gpu', 'all'])
        .default('all'),
    )
    .addOption(new Option('--device <device>', 'device for model and SAE compute').choices([...DEVICES]).default('cpu'))
    .option('--concurrency <n>', 'stages at once per activity queue (each in its own stage process)', parseIntOption('concurrency', 1), 1)
    .action(async (options: { queue: 'workflows' | 'cpu' | 'gpu' | 'all'; device: Device; concurrency: number }, command: Command) => {
      const global = globalOptions(command);
      const controller = new AbortController();
      const release = abortOnSignals(controller);
      try {
        const { runWorkers, queuesOf } = await import('../../worker/worker.js');
        const queues = queuesOf(options.queue, options.device);
        await runWorkers({
          target: targetOf(global),
          dataDir: global.dataDir,
          queues,
          device: options.device,
          concurrency: options.concurrency,
          log: loggerOf(global, { component: 'worker' }),
          logLevel: global.logLevel,
          signal: controller.signal,
        });
      } finally {
        release();
      }
    });
}
