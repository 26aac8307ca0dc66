/**
 * `tsae`: the command-line interface. Every command has --help; exit codes: 0 ok, 1 failure,
 * 2 usage or validation error.
 */
import { Command, CommanderError, Option } from 'commander';
import { TsaeError } from '../../lib/core/errors.js';
import { EXIT, exitCodeOf } from './commands/common.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerGpu } from './commands/gpu.js';
import { registerManage } from './commands/manage.js';
import { registerRun } from './commands/run.js';
import { registerSchedule } from './commands/schedule.js';
import { registerTools } from './commands/tools.js';
import { registerValidate } from './commands/validate.js';
import { registerEval } from './commands/eval.js';
import { registerWorker } from './commands/worker.js';

export function buildProgram(): Command {
  const program = new Command('tsae')
    .description('temporal-sae: train and evaluate sparse autoencoders (ATR and baselines) on language-model activations, as a durable Temporal pipeline')
    .option('--data-dir <dir>', 'data directory for artifacts, runs and the dev server database (env TSAE_DATA_DIR)', undefined)
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .option('--json', 'machine-readable JSON output (the default when stdout is not a terminal)', false)
    .showHelpAfterError()
    .exitOverride();
  registerDemo(program);
  registerDev(program);
  registerWorker(program);
  registerRun(program);
  registerEval(program);
  registerValidate(program);
  registerManage(program);
  registerSchedule(program);
  registerTools(program);
  registerGpu(program);
  const exitOverrideAll = (command: Command) => command.commands.forEach((c) => (c.exitOverride(), exitOverrideAll(c)));
  exitOverrideAll(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeOf(error);
    const message = error instanceof TsaeError || code === EXIT.usage ? (error as Error).message : String((error as Error)?.stack ?? error);
    process.stderr.write(`tsae: ${message}\n`);
    return code;
  }
}
