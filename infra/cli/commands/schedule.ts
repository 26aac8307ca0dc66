import type { Command } from 'commander';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { nightlyReproductionWorkflow } from '../../../workflows/nightly.js';
import { TsaeNightlyKey, TsaePresetKey, TsaeStatusKey } from '../../../workflows/search-attributes.js';
import { WORKFLOW_QUEUE } from '../../../workflows/shared.js';
import { globalOptions, printResult, withClient } from './common.js';
import { resolveSpec } from './run.js';

const SCHEDULE_PREFIX = 'tsae-nightly-';

/** A scheduled run's Temporal status and its comparison outcome (established, pass, regression). */
async function nightlyOutcome(client: Client, workflowId: string, runId: string): Promise<{ status: string; nightly: string | null }> {
  try {
    const description = await client.workflow.getHandle(workflowId, runId).describe();
    const nightly = description.typedSearchAttributes.get(TsaeNightlyKey) ?? null;
    return { status: description.status.name, nightly };
  } catch {
    return { status: 'unknown', nightly: null };
  }
}

interface CreateOptions {
  preset?: string;
  spec?: string;
  set: string[];
  cron: string;
  reference?: string;
  paused: boolean;
}

/** `tsae schedule create|list|delete|trigger`: Temporal Schedules for nightly baseline reproductions. */
export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description('Manage Temporal Schedules that rerun a baseline preset nightly and compare it with a stored reference');

  schedule
    .command('create')
    .description('Create a schedule running the nightly reproduction workflow')
    .argument('<name>', 'schedule name (id: tsae-nightly-<name>)')
    .option('--preset <name>', 'preset to reproduce', 'demo')
    .option('--spec <file>', 'spec file instead of a preset')
    .option('--set <key=value>', 'override a spec field (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--cron <expr>', 'cron expression (UTC)', '0 3 * * *')
    .option('--reference <name>', 'reference name under <data>/references/ (default: the schedule name); the first run establishes it')
    .option('--paused', 'create paused', false)
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const global = globalOptions(command);
      const spec = await resolveSpec(options.spec, { preset: options.spec ? undefined : options.preset, set: options.set });
      const scheduleId = SCHEDULE_PREFIX + name;
      await withClient(global, (client) =>
        client.schedule.create({
          scheduleId,
          spec: { cronExpressions: [options.cron] },
          action: {
            type: 'startWorkflow',
            workflowType: nightlyReproductionWorkflow,
            workflowId: `nightly-${name}`,
            taskQueue: WORKFLOW_QUEUE,
            args: [{ spec, reference: options.reference ?? name }],
            staticSummary: `nightly reproduction of ${spec.preset ?? spec.name}, compared with reference ${options.reference ?? name}`,
            typedSearchAttributes: [
              { key: TsaePresetKey, value: spec.preset ?? 'custom' },
              { key: TsaeStatusKey, value: 'running' },
            ],
          },
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
          state: { paused: options.paused, note: `tsae nightly reproduction of ${spec.preset ?? spec.name}` },
        }),
      );
      printResult(global, { event: 'schedule-created', scheduleId, cron: options.cron }, () => `Created schedule ${scheduleId} (${options.cron})`);
    });

  schedule
    .command('list')
    .description('List tsae schedules with their next and recent runs')
    .action(async (_options: unknown, command: Command) => {
      const global = globalOptions(command);
      const rows = await withClient(global, async (client) => {
        const out = [];
        for await (const item of client.schedule.list()) {
          if (!item.scheduleId.startsWith(SCHEDULE_PREFIX)) continue;
          const recentActions = [];
          for (const action of item.info.recentActions) {
            const { workflowId, firstExecutionRunId } = action.action.workflow;
            recentActions.push({ at: action.takenAt.toISOString(), workflowId, ...(await nightlyOutcome(client, workflowId, firstExecutionRunId)) });
          }
          out.push({
            name: item.scheduleId.slice(SCHEDULE_PREFIX.length),
            scheduleId: item.scheduleId,
            paused: item.state.paused,
            nextActionTimes: item.info.nextActionTimes.map((t) => t.toISOString()),
            recentActions,
          });
        }
        return out;
      });
      printResult(global, rows, () =>
        rows.length
          ? rows
              .map((r) => `${r.name}${r.paused ? ' (paused)' : ''}  next: ${r.nextActionTimes[0] ?? '-'}  recent: ${r.recentActions.map((a) => `${a.workflowId} ${a.status}${a.nightly ? `/${a.nightly}` : ''}`).join(', ') || '-'}`)
              .join('\n')
          : 'no schedules',
      );
    });

  schedule
    .command('delete')
    .description('Delete a schedule (its past runs stay)')
    .argument('<name>', 'schedule name')
    .action(async (name: string, _options: unknown, command: Command) => {
      const global = globalOptions(command);
      await withClient(global, (client) => client.schedule.getHandle(SCHEDULE_PREFIX + name).delete());
      printResult(global, { event: 'schedule-deleted', scheduleId: SCHEDULE_PREFIX + name }, () => `Deleted ${SCHEDULE_PREFIX + name}`);
    });

  schedule
    .command('trigger')
    .description('Start the scheduled reproduction now')
    .argument('<name>', 'schedule name')
    .action(async (name: string, _options: unknown, command: Command) => {
      const global = globalOptions(command);
      await withClient(global, (client) => client.schedule.getHandle(SCHEDULE_PREFIX + name).trigger(ScheduleOverlapPolicy.ALLOW_ALL));
      printResult(global, { event: 'schedule-triggered', scheduleId: SCHEDULE_PREFIX + name }, () => `Triggered ${SCHEDULE_PREFIX + name}`);
    });
}
