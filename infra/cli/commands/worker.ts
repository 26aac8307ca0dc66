import { Option, type Command } from 'commander';
import { DEVICES, type Device } from '../../../lib/onnx/backend.js';
import type { QueueKind } from '../../../workflows/shared.js';
import { abortOnSignals, globalOptions, loggerOf, parseIntOption, targetOf } from './common.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker against a Temporal server (TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
    .addOption(new Option('--queue <queue>', 'task queue: cpu (workflows + CPU stages), gpu (model/SAE compute), or all').choices(['cpu', 'gpu', 'all']).default('cpu'))
    .addOption(new Option('--device <device>', 'device for model and SAE compute').choices([...DEVICES]).default('cpu'))
    .option('--concurrency <n>', 'activities at once per queue', parseIntOption('concurrency', 1), 1)
    .action(async (options: { queue: 'cpu' | 'gpu' | 'all'; device: Device; concurrency: number }, command: Command) => {
      const global = globalOptions(command);
      const controller = new AbortController();
      const release = abortOnSignals(controller);
      try {
        const queues: QueueKind[] = options.queue === 'all' ? ['cpu', 'gpu'] : [options.queue];
        await (await import('../../worker/worker.js')).runWorkers({
          target: targetOf(global),
          dataDir: global.dataDir,
          queues,
          device: options.device,
          concurrency: options.concurrency,
          log: loggerOf(global, { component: 'worker' }),
          signal: controller.signal,
        });
      } finally {
        release();
      }
    });
}
