/**
 * metrics.jsonl: one JSON object per logged step, appended after each run:
 *   step (steps done), tokens (step * batchSize), loss and each loss term (mse summed over d_in and
 *   averaged over tokens, in normalised units), l0 (mean latents > 0 per token in the loss),
 *   explained_variance (pooled over the batch's tokens in the loss: 1 - sum ||x - xhat||^2 /
 *   sum ||x - mean x||^2, definition 1 of metrics.md), dead_pct (% of latents that have not fired
 *   for deadWindowTokens), grad_norm (before clipping), lr; lambda_t (the sparsity coefficient of
 *   standard, gated, jumprelu, atr) and lambda_clamp (+1 / -1 when the controller's next value sits
 *   at its upper / lower clamp, else 0); alpha_t and alpha_clamp (atr); auxk (topk, batchtopk: 0
 *   while no latent is dead); threshold (batchtopk: -1 until thresholdStartStep). Every step also
 *   feeds TrainSummary.mechanisms (mechanisms.ts), whatever logEvery is.
 *   No wall-clock values: the log is part of the deterministic artifact
 *   (throughput goes to progress heartbeats and the stage summary).
 * On resume, lines after the checkpoint's step (and a torn last line) are dropped first, so the
 * file always describes one consistent history.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileExists, writeFileAtomic } from '../../lib/core/atomic-fs.js';

export const METRICS_FILE = 'metrics.jsonl';

export type MetricsLine = Record<string, number>;

/** Keeps the lines with step <= lastStep (all lines if the file is missing nothing is kept). */
export async function truncateMetrics(outDir: string, lastStep: number): Promise<void> {
  const path = join(outDir, METRICS_FILE);
  if (!(await fileExists(path))) return;
  const kept: string[] = [];
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as MetricsLine;
      if (typeof parsed.step === 'number' && parsed.step <= lastStep) kept.push(line);
    } catch {
      // A line torn by a crash mid-append: dropped.
    }
  }
  await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
}

export async function appendMetrics(outDir: string, lines: MetricsLine[]): Promise<void> {
  if (lines.length === 0) return;
  await appendFile(join(outDir, METRICS_FILE), lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

export async function readMetrics(outDir: string): Promise<MetricsLine[]> {
  const path = join(outDir, METRICS_FILE);
  if (!(await fileExists(path))) return [];
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsLine);
}
