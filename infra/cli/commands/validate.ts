import type { Command } from 'commander';
import YAML from 'yaml';
import { resolveSpec } from './run.js';
import { globalOptions, printResult } from './common.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Validate a run spec and print it with defaults filled in (exit 2 naming each bad field)')
    .argument('[spec]', 'run spec file (YAML or JSON)')
    .option('--preset <name>', 'built-in spec: paper, demo or smoke')
    .option('--set <key=value>', 'override a spec field (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .action(async (specPath: string | undefined, options: { preset?: string; set: string[] }, command: Command) => {
      const global = globalOptions(command);
      const spec = await resolveSpec(specPath, options);
      printResult(global, spec, () => YAML.stringify(spec));
    });
}
