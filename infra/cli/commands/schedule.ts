import type { Command } from 'commander';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { TASK_QUEUES, WORKFLOW_TASK_TIMEOUT } from '../../../workflows/shared.js';
import { globalOptions, printResult, withClient } from './common.js';
import { resolveSpec } from './run.js';

const SCHEDULE_PREFIX = 'tsae-nightly-';

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
            workflowType: 'nightlyReproductionWorkflow',
            workflowId: `nightly-${name}`,
            taskQueue: TASK_QUEUES.cpu,
            workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
            args: [{ spec, reference: options.reference ?? name }],
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
          out.push({
            name: item.scheduleId.slice(SCHEDULE_PREFIX.length),
            scheduleId: item.scheduleId,
            paused: item.state.paused,
            nextActionTimes: item.info.nextActionTimes.map((t) => t.toISOString()),
            recentActions: item.info.recentActions.map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
          });
        }
        return out;
      });
      printResult(global, rows, () =>
        rows.length ? rows.map((r) => `${r.name}${r.paused ? ' (paused)' : ''}  next: ${r.nextActionTimes[0] ?? '-'}  recent: ${r.recentActions.map((a) => a.workflowId).join(', ') || '-'}`).join('\n') : 'no schedules',
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
