import cliProgress from 'cli-progress';
import type { StageProgress } from '../../lib/core/context.js';

/** Renders stage progress for long CLI work: a bar with ETA on a terminal, JSON lines on stderr otherwise. */
export function createProgressReporter(options: { tty: boolean }) {
  let bar: cliProgress.SingleBar | null = null;
  let lastLine = 0;
  return {
    update(progress: StageProgress) {
      if (!options.tty) {
        const now = Date.now();
        if (now - lastLine < 1_000 && progress.done < progress.total) return;
        lastLine = now;
        process.stderr.write(JSON.stringify({ event: 'progress', ...progress }) + '\n');
        return;
      }
      const payload = { label: `${progress.stage}${progress.item ? ' ' + progress.item : ''}`.slice(0, 40), unit: progress.unit };
      if (!bar) {
        bar = new cliProgress.SingleBar({ format: ' {label} |{bar}| {percentage}% {value}/{total} {unit} | ETA {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(1, progress.total), progress.done, payload);
      }
      bar.setTotal(Math.max(1, progress.total));
      bar.update(progress.done, payload);
    },
    stop() {
      bar?.stop();
    },
  };
}
