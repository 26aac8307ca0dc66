import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEVICES, type Device } from '../../../lib/core/devices.js';
import { startDevServer } from '../../temporal/dev-server.js';
import { storeIdentity } from '../../../lib/artifacts/store-identity.js';
import { foreignWorkers } from '../../worker/worker-identity.js';
import { abortOnSignals, globalOptions, loggerOf, parseIntOption, targetOf, withClient, type GlobalOptions } from './common.js';

export interface DevOptions {
  ip: string;
  port: number;
  uiPort: number;
  headless: boolean;
  worker: boolean;
  device: Device;
  concurrency: number;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Start (or reuse) the local Temporal dev server with its Web UI, plus a worker; Ctrl-C stops both')
    .option('--ip <ip>', 'interface the server and UI bind to', '127.0.0.1')
    .option('--port <port>', 'gRPC frontend port', parseIntOption('port', 1), 7233)
    .option('--ui-port <port>', 'Web UI port', parseIntOption('ui-port', 1), 8233)
    .option('--headless', 'no Web UI', false)
    .option('--no-worker', 'start only the server')
    .addOption(new Option('--device <device>', 'device of the embedded worker').choices([...DEVICES]).default('cpu'))
    .option('--concurrency <n>', 'activities at once in the embedded worker', parseIntOption('concurrency', 1), 1)
    .action(async (options: DevOptions, command: Command) => runDev(globalOptions(command), options));
}

/**
 * A reused server may already have workers serving another data directory (another `tsae dev`):
 * runs started here could land on them, and their artifacts in the other store. Say so.
 */
export async function warnAboutForeignWorkers(global: GlobalOptions, address: string): Promise<void> {
  const store = await storeIdentity(global.dataDir);
  const foreign = await withClient({ ...global, address }, (client) => foreignWorkers(client, global.namespace ?? 'default', store.id)).catch(() => []);
  for (const worker of foreign) {
    process.stderr.write(
      `warning: the Temporal server at ${address} already has a worker serving the data directory ${worker.dataDir} (store ${worker.storeId}); ` +
        `this one serves ${global.dataDir} (store ${store.id}). Activities of one run go to either worker and refuse a store that is not the run's: ` +
        `stop the other \`tsae dev\`, or start this one on another --port.\n`,
    );
  }
}

/** Where `tsae dev` and `tsae demo` keep the dev server's history and log: under the data directory. */
export function devServerFiles(global: GlobalOptions): { dbFile: string; logFile: string; namespace: string } {
  const dir = join(global.dataDir, 'temporal');
  return { dbFile: join(dir, 'dev-server.sqlite'), logFile: join(dir, 'dev-server.log'), namespace: global.namespace ?? 'default' };
}

export async function runDev(global: GlobalOptions, options: DevOptions): Promise<void> {
  const log = loggerOf(global, { component: 'dev' });
  const controller = new AbortController();
  const release = abortOnSignals(controller);
  const server = await startDevServer({ ...devServerFiles(global), ip: options.ip, port: options.port, uiPort: options.headless ? null : options.uiPort });
  log.info(server.reused ? 'reusing running Temporal server' : 'Temporal dev server started', { address: server.address, ui: server.uiUrl });
  if (server.reused) await warnAboutForeignWorkers(global, server.address);
  process.stderr.write(`Temporal at ${server.address}${server.uiUrl ? `, Web UI at ${server.uiUrl}` : ''}. Ctrl-C to stop.\n`);
  try {
    if (options.worker) {
      const { runWorkers, queuesOf } = await import('../../worker/worker.js');
      await runWorkers({
        target: { ...targetOf(global), address: server.address },
        dataDir: global.dataDir,
        queues: queuesOf('all', options.device),
        device: options.device,
        concurrency: options.concurrency,
        log,
        logLevel: global.logLevel,
        signal: controller.signal,
      });
    } else {
      await new Promise((resolve) => controller.signal.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    release();
    await server.stop();
    log.info('stopped');
  }
}
