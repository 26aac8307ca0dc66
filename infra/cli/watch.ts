import cliProgress from 'cli-progress';
import type { Client } from '@temporalio/client';
import type { StageProgress } from '../../lib/core/context.js';
import { snapshotRun, type RunSnapshot } from './run-status.js';

const POLL_MS = 1_000;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Follows a run until it ends: a progress bar per running activity (stage, item, done/total,
 * rate, ETA) on a terminal, JSON lines otherwise. Returns the last snapshot.
 */
export async function watchRun(client: Client, workflowId: string, options: { tty: boolean; signal?: AbortSignal }): Promise<RunSnapshot> {
  const render = options.tty ? new TtyRenderer() : new JsonLinesRenderer();
  let snapshot: RunSnapshot;
  try {
    for (;;) {
      snapshot = await snapshotRun(client, workflowId);
      render.update(snapshot);
      if (TERMINAL.has(snapshot.status) || options.signal?.aborted) break;
      await sleepUnlessAborted(POLL_MS, options.signal);
      if (options.signal?.aborted) break;
    }
  } finally {
    render.stop();
  }
  return snapshot!;
}

function barKey(progress: StageProgress, workflowId: string): string {
  return `${workflowId}:${progress.stage}:${progress.item ?? ''}`;
}

export function etaSeconds(progress: StageProgress): number | null {
  if (!progress.rate || progress.rate <= 0 || progress.total <= progress.done) return null;
  return (progress.total - progress.done) / progress.rate;
}

class JsonLinesRenderer {
  private last = '';
  update(snapshot: RunSnapshot): void {
    const line = JSON.stringify({
      event: 'progress',
      workflowId: snapshot.workflowId,
      status: snapshot.status,
      stages: Object.fromEntries(snapshot.stages.map((s) => [s.name, s.status])),
      phases: snapshot.phases,
      active: snapshot.active
        .filter((a) => a.state !== 'scheduled')
        .map((a) => ({ activity: a.activityType, attempt: a.attempt, startedAt: a.startedAt, ...a.progress, eta: a.progress ? etaSeconds(a.progress) : null })),
      queued: snapshot.active.filter((a) => a.state === 'scheduled').length,
      awaiting: snapshot.awaiting,
    });
    if (line !== this.last) process.stdout.write(line + '\n');
    this.last = line;
  }
  stop(): void {}
}

class TtyRenderer {
  private readonly multibar = new cliProgress.MultiBar(
    {
      format: ' {label} |{bar}| {percentage}% {value}/{total} {unit} | {rate} | ETA {eta_formatted} {extra}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private header: cliProgress.SingleBar | null = null;

  update(snapshot: RunSnapshot): void {
    const done = snapshot.stages.filter((s) => s.status === 'done').length;
    const phaseText = Object.entries(snapshot.phases).map(([name, p]) => `${name} ${p.done}/${p.total}`).join(', ');
    const headerText = `${snapshot.workflowId} ${snapshot.status}${phaseText ? ` (${phaseText})` : ''}${snapshot.awaiting.length ? ' — awaiting `tsae resume`: ' + snapshot.awaiting.join('; ') : ''}`;
    if (!this.header) this.header = this.multibar.create(Math.max(1, snapshot.stages.length), done, { label: 'stages', unit: '', rate: '', extra: headerText });
    this.header.setTotal(Math.max(1, snapshot.stages.length));
    this.header.update(done, { extra: headerText });
    for (const active of snapshot.active) {
      if (!active.progress || active.state === 'scheduled') continue;
      const p = active.progress;
      const key = barKey(p, active.workflowId);
      const payload = {
        label: `${p.stage}${p.item ? ' ' + p.item : ''}`.slice(0, 40).padEnd(40),
        unit: p.unit,
        rate: p.rate ? `${Math.round(p.rate)} ${p.unit}/s` : '',
        extra: p.metrics ? Object.entries(p.metrics).slice(0, 4).map(([k, v]) => `${k}=${Number(v).toPrecision(3)}`).join(' ') : '',
      };
      const bar = this.bars.get(key) ?? this.multibar.create(Math.max(1, p.total), 0, payload);
      this.bars.set(key, bar);
      bar.setTotal(Math.max(1, p.total));
      bar.update(p.done, payload);
    }
  }

  stop(): void {
    this.multibar.stop();
  }
}

function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
