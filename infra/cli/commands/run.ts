import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { RunSpec } from '../../../schemas/run-spec.js';
import { variantLabel } from '../../../schemas/derived.js';
import { parseSetOptions, presetSpec, specFromFile } from '../../../lib/spec/resolve-spec.js';
import { pipelineWorkflow } from '../../../workflows/pipeline.js';
import { TsaePresetKey, TsaeModelKey, TsaeLayerKey, TsaeVariantsKey, TsaeStatusKey, TsaeRunIdKey } from '../../../workflows/search-attributes.js';
import { WORKFLOW_QUEUE } from '../../../workflows/shared.js';
import { workflowUiUrl } from '../../temporal/connection.js';
import { checkExternalSaes } from '../external-sae-check.js';
import { watchRun } from '../watch.js';
import { globalOptions, printResult, targetOf, UsageError, withClient, type GlobalOptions } from './common.js';

interface RunOptions {
  preset?: string;
  set: string[];
  watch: boolean;
  id?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Validate a run spec (YAML file or --preset) and start the pipeline; prints the workflow id and the Web UI link')
    .argument('[spec]', 'run spec file (YAML or JSON)')
    .option('--preset <name>', 'built-in spec: paper, demo or smoke')
    .option('--set <key=value>', 'override a spec field, e.g. --set tokens.train=100000 (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--watch', 'follow progress until the run ends (progress bars on a terminal, JSON lines otherwise)', false)
    .option('--id <workflowId>', 'workflow id to use (default: <name>-<time>-<random>)')
    .addHelpText('after', '\nExamples:\n  tsae run --preset demo --watch\n  tsae run my-spec.yaml --set seed=1\n')
    .action(async (specPath: string | undefined, options: RunOptions, command: Command) => {
      const global = globalOptions(command);
      const spec = await resolveSpec(specPath, options);
      const { workflowId, status } = await startPipeline(global, spec, options);
      if (status && status !== 'completed') process.exitCode = 1;
      void workflowId;
    });
}

export async function resolveSpec(specPath: string | undefined, options: Pick<RunOptions, 'preset' | 'set'>): Promise<RunSpec> {
  if (Boolean(specPath) === Boolean(options.preset)) throw new UsageError('give either a spec file or --preset NAME (not both)');
  const overrides = parseSetOptions(options.set);
  const spec = specPath ? await specFromFile(specPath, overrides) : presetSpec(options.preset!, overrides);
  return checkExternalSaes(spec, specPath ?? `preset ${options.preset}`);
}

/** Starts the pipeline workflow; with `watch`, follows it and returns its final status. */
export async function startPipeline(global: GlobalOptions, spec: RunSpec, options: Pick<RunOptions, 'watch' | 'id'> & { signal?: AbortSignal }) {
  return withClient(global, async (client) => {
    const workflowId = options.id ?? defaultWorkflowId(spec);
    await client.workflow.start(pipelineWorkflow, {
      taskQueue: WORKFLOW_QUEUE,
      workflowId,
      args: [{ spec }],
      staticSummary: `${spec.name}: ${spec.sae.variants.map(variantLabel).join(', ')} on ${spec.model.source} layer ${spec.model.layer}`,
      staticDetails: `preset ${spec.preset ?? 'custom'}; ${spec.tokens.train.toLocaleString('en-US')} training tokens; ${spec.sae.dSae} latents; device ${spec.device}`,
      memo: { spec: spec.name, preset: spec.preset ?? null, status: 'running' },
      typedSearchAttributes: [
        { key: TsaeModelKey, value: spec.model.source },
        { key: TsaeLayerKey, value: spec.model.layer },
        { key: TsaeVariantsKey, value: spec.sae.variants.map(variantLabel) },
        { key: TsaePresetKey, value: spec.preset ?? 'custom' },
        { key: TsaeStatusKey, value: 'running' },
        { key: TsaeRunIdKey, value: workflowId },
      ],
    });
    const ui = workflowUiUrl(targetOf(global), workflowId);
    printResult({ ...global, json: global.json }, { event: 'started', workflowId, ui }, () => `Started ${workflowId}\nWeb UI: ${ui}`);
    if (!options.watch) return { workflowId, status: null };
    const snapshot = await watchRun(client, workflowId, { tty: Boolean(process.stdout.isTTY) && !global.json, signal: options.signal });
    printResult(global, { event: 'finished', workflowId, status: snapshot.status }, () => `${workflowId}: ${snapshot.status}`);
    return { workflowId, status: snapshot.status };
  });
}

export function defaultWorkflowId(spec: RunSpec, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${spec.name}-${stamp}-${randomBytes(2).toString('hex')}`;
}
