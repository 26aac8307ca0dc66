import type { Command } from 'commander';
import { resumeSignal } from '../../../workflows/shared.js';
import { TsaePresetKey, TsaeStatusKey } from '../../../workflows/search-attributes.js';
import { snapshotRun, type RunSnapshot } from '../run-status.js';
import { workflowUiUrl } from '../../temporal/connection.js';
import { globalOptions, parseIntOption, printResult, targetOf, withClient } from './common.js';

export function registerManage(program: Command): void {
  program
    .command('status')
    .description('Show a run: status, stages (done / running / awaiting resume), running activities with progress')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const global = globalOptions(command);
      const snapshot = await withClient(global, (client) => snapshotRun(client, id));
      printResult(global, { ...snapshot, ui: workflowUiUrl(targetOf(global), id) }, () => formatSnapshot(snapshot, workflowUiUrl(targetOf(global), id)));
    });

  program
    .command('list')
    .description('List pipeline runs, newest first (a Temporal visibility query can narrow them)')
    .option('--query <query>', 'visibility query, e.g. \'TsaeStatus = "awaiting-resume"\'')
    .option('--limit <n>', 'at most this many runs', parseIntOption('limit', 1), 20)
    .action(async (options: { query?: string; limit: number }, command: Command) => {
      const global = globalOptions(command);
      const rows = await withClient(global, async (client) => {
        const query = ['WorkflowType = "pipelineWorkflow"', options.query].filter(Boolean).join(' AND ');
        const out = [];
        for await (const info of client.workflow.list({ query })) {
          out.push({
            workflowId: info.workflowId,
            execution: info.status.name,
            status: info.typedSearchAttributes.get(TsaeStatusKey) ?? null,
            preset: info.typedSearchAttributes.get(TsaePresetKey) ?? null,
            startTime: info.startTime.toISOString(),
          });
          if (out.length >= options.limit) break;
        }
        return out;
      });
      printResult(global, rows, () =>
        rows.length ? rows.map((r) => `${r.workflowId}  ${r.execution.padEnd(10)} ${String(r.status ?? '').padEnd(16)} ${r.preset ?? ''}  ${r.startTime}`).join('\n') : 'no runs',
      );
    });

  program
    .command('resume')
    .description('Retry the stages of a run that exhausted their retries (they wait for this signal)')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const global = globalOptions(command);
      await withClient(global, async (client) => {
        const snapshot = await snapshotRun(client, id);
        await client.workflow.getHandle(id).signal(resumeSignal);
        // Children that wait are signalled by the parent too; signalling them directly covers a parent that waits on its own stage.
        for (const child of Object.values(snapshot.children)) {
          if (child.execution === 'RUNNING') await client.workflow.getHandle(child.workflowId).signal(resumeSignal).catch(() => undefined);
        }
        printResult(global, { event: 'resumed', workflowId: id, awaiting: snapshot.awaiting }, () =>
          snapshot.awaiting.length ? `Resumed ${id}: ${snapshot.awaiting.join('; ')}` : `Sent resume to ${id} (no stage was awaiting resume)`,
        );
      });
    });

  program
    .command('cancel')
    .description('Cancel a run (running activities are cancelled through their heartbeats)')
    .argument('<id>', 'workflow id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const global = globalOptions(command);
      await withClient(global, (client) => client.workflow.getHandle(id).cancel());
      printResult(global, { event: 'cancel-requested', workflowId: id }, () => `Cancellation requested for ${id}`);
    });
}

export function formatSnapshot(snapshot: RunSnapshot, ui: string): string {
  const lines = [`${snapshot.workflowId}: ${snapshot.status} (${snapshot.execution})`, `Web UI: ${ui}`];
  const stages = [...snapshot.stages, ...Object.entries(snapshot.children).flatMap(([label, c]) => c.stages.map((s) => ({ ...s, name: `${label}/${s.name}` })))];
  for (const stage of stages) {
    lines.push(`  ${stage.status.padEnd(16)} ${stage.name}${stage.cacheHit ? ' (cached)' : ''}${stage.error ? ` — ${stage.error}` : ''}`);
  }
  const queued = snapshot.active.filter((a) => a.state === 'scheduled').length;
  if (queued) lines.push(`  ${queued} activit${queued === 1 ? 'y' : 'ies'} queued for a worker slot`);
  for (const active of snapshot.active.filter((a) => a.state !== 'scheduled')) {
    const p = active.progress;
    lines.push(`  > ${active.activityType} attempt ${active.attempt}${p ? `: ${p.stage} ${p.item ?? ''} ${p.done}/${p.total} ${p.unit}${p.rate ? ` @ ${Math.round(p.rate)}/s` : ''}` : ''}`);
  }
  if (snapshot.awaiting.length) lines.push('Awaiting resume; fix the cause, then run `tsae resume ' + snapshot.workflowId + '`.');
  return lines.join('\n');
}
