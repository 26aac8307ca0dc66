import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { EVAL_FAMILIES, type EvalFamily } from '../../../schemas/eval.js';
import { parseSetOptions, presetSpec } from '../../../lib/spec/resolve-spec.js';
import { checkExternalSaes } from '../external-sae-check.js';
import { globalOptions, parseIntOption, UsageError } from './common.js';
import { startPipeline } from './run.js';

interface EvalOptions {
  model: string;
  layer: number;
  preset: string;
  families?: string;
  name: string[];
  set: string[];
  watch: boolean;
  id?: string;
}

/**
 * `tsae eval`: SAEs trained elsewhere, through the same workflow without training: extraction
 * (cached), the chosen eval families, metrics.json (SAEBench field names) and the report.
 */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Evaluate SAEs trained elsewhere (SAELens, sparsify or dictionary_learning folders) with the same evals and report as trained ones')
    .argument('<folders...>', 'SAE folders (SAELens: cfg.json + sae_weights.safetensors; sparsify: cfg.json + sae.safetensors; dictionary_learning: config.json + ae.pt)')
    .requiredOption('--model <source>', "the model the SAEs read: a registry model ('gemma3-270m', 'smollm2-135m'), a model folder, a GGUF file or a hub id")
    .requiredOption('--layer <n>', 'block index L of the hooked residual stream (SAELens blocks.L.hook_resid_post)', parseIntOption('layer', 0))
    .option('--preset <name>', 'preset for the corpus, token budgets and eval options', 'demo')
    .option('--families <list>', `eval families, comma-separated (${EVAL_FAMILIES.join(', ')}; default: the preset's)`)
    .option('--name <label>', 'label of the next folder in reports (repeatable; default: the folder name)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--set <key=value>', 'override a spec field (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--watch', 'follow progress until the run ends', false)
    .option('--id <workflowId>', 'workflow id to use')
    .addHelpText('after', '\nExample:\n  tsae eval ./my-saes/layer6 --model gemma3-270m --layer 6 --families core,temporal --watch\n')
    .action(async (folders: string[], options: EvalOptions, command: Command) => {
      const global = globalOptions(command);
      const families = options.families?.split(',').map((f) => f.trim()).filter(Boolean);
      const unknown = families?.filter((f) => !(EVAL_FAMILIES as readonly string[]).includes(f)) ?? [];
      if (unknown.length) throw new UsageError(`--families: unknown family ${unknown.map((f) => `'${f}'`).join(', ')}; allowed: ${EVAL_FAMILIES.join(', ')}`);
      if (options.name.length > folders.length) throw new UsageError(`--name given ${options.name.length} times for ${folders.length} folder(s)`);
      const spec = await checkExternalSaes(
        presetSpec(options.preset, {
          name: 'eval',
          // Paths are relative to where the command runs (a preset's own paths are relative to the project).
          'model.source': existsSync(options.model) ? resolve(options.model) : options.model,
          'model.layer': options.layer,
          'sae.variants': [],
          'sae.external': externalEntries(folders, options.name),
          ...(families ? { 'evaluate.families': families as EvalFamily[] } : {}),
          ...parseSetOptions(options.set),
        }),
        'tsae eval',
      );
      const { status } = await startPipeline(global, spec, options);
      if (status && status !== 'completed') process.exitCode = 1;
    });
}

/** One `sae.external` entry per folder, labelled by --name or by the folder's name (made unique). */
function externalEntries(folders: string[], names: string[]): { name: string; path: string }[] {
  const used = new Set<string>();
  return folders.map((path, i) => {
    const base = (names[i] ?? basename(path.replace(/\/+$/, ''))).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'sae';
    let name = base.slice(0, 64);
    for (let k = 2; used.has(name); k++) name = `${base.slice(0, 60)}-${k}`;
    used.add(name);
    return { name, path: resolve(path) };
  });
}
