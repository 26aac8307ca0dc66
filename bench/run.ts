/**
 * `npm run bench`: runs every area's benchmark, writes bench/results/latest.json (a list of
 * BenchRecord) and prints a table. `--quick` shrinks sizes; `--only a,b` picks areas.
 * Each record carries its reference measured in the same run (ratio = ours / reference,
 * higher is better); values are medians of repeats. `--merge` keeps the records of the areas not
 * run from the existing latest.json (to rerun one area after a change).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../lib/core/atomic-fs.js';
import { projectPath } from '../lib/core/package-root.js';
import { recordProblems, TOKENIZE_END_TO_END, type BenchRecord } from './record.js';

type BenchFn = (options: { quick: boolean }) => Promise<BenchRecord[]>;

/** Area -> module and export; run in this order (cheap first). */
const AREAS: Record<string, [string, string]> = {
  tokenize: ['./tokenize.js', 'runTokenizeBench'],
  extract: ['./extract.js', 'runExtractBench'],
  train: ['./train.js', 'runTrainBench'],
  evaluate: ['./evaluate.js', 'runEvaluateBench'],
  report: ['./report.js', 'runReportBench'],
  pipeline: ['./pipeline.js', 'runPipelineBench'],
};

const AREA_ORDER = Object.keys(AREAS);

async function previousRecords(file: string): Promise<BenchRecord[]> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BenchRecord[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Issue 3's goal, that tokenization is never the bottleneck: the tokenize stage's tokens/s against
 * 10x the extraction tokens/s measured by the extract area (this run's, or the merged one's).
 */
export function crossAreaRecords(records: BenchRecord[]): BenchRecord[] {
  const tokenize = records.find((r) => r.stage === 'tokenize' && r.case === TOKENIZE_END_TO_END);
  const extract = records.find((r) => r.stage === 'extract' && r.metric === 'tokens_per_s');
  if (!tokenize || !extract) return [];
  const goal = 10 * extract.value;
  return [{
    stage: 'tokenize',
    case: `${TOKENIZE_END_TO_END} vs 10x extraction`,
    metric: tokenize.metric,
    value: tokenize.value,
    unit: tokenize.unit,
    reference: `10 x extraction (${extract.case})`,
    referenceValue: goal,
    ratio: tokenize.value / goal,
  }];
}

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? argv[onlyIndex + 1].split(',') : Object.keys(AREAS);
  const records: BenchRecord[] = [];
  const failures: string[] = [];
  for (const area of Object.keys(AREAS).filter((a) => only.includes(a))) {
    const [module, exportName] = AREAS[area];
    process.stderr.write(`[bench] ${area}...\n`);
    const started = Date.now();
    try {
      const fn = (await import(module))[exportName] as BenchFn;
      const got = await fn({ quick });
      const problems = got.flatMap(recordProblems);
      if (problems.length) throw new Error(`records without their reference:\n    ${problems.join('\n    ')}`);
      records.push(...got);
      process.stderr.write(`[bench] ${area}: ${got.length} records in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      const message = (error as Error).message;
      failures.push(message.startsWith(`${area}: `) ? message : `${area}: ${message}`);
      process.stderr.write(`[bench] ${area} FAILED: ${(error as Error).stack ?? error}\n`);
    }
  }
  const dir = projectPath('bench', 'results');
  await mkdir(dir, { recursive: true });
  if (argv.includes('--merge')) records.unshift(...(await previousRecords(join(dir, 'latest.json'))).filter((r) => !only.includes(r.stage)));
  const measured = records.filter((r) => !r.case.startsWith(`${TOKENIZE_END_TO_END} vs`));
  const all = [...measured, ...crossAreaRecords(measured)].sort((a, b) => AREA_ORDER.indexOf(a.stage) - AREA_ORDER.indexOf(b.stage));
  await writeJsonAtomic(join(dir, 'latest.json'), all);
  process.stdout.write(formatTable(all) + '\n');
  process.stdout.write(`wrote ${join(dir, 'latest.json')} (${all.length} records)\n`);
  if (failures.length) {
    process.stderr.write(`bench areas failed:\n  ${failures.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

export function formatTable(records: BenchRecord[]): string {
  const rows = records.map((r) => [
    r.stage,
    r.case,
    r.metric,
    `${fmt(r.value)} ${r.unit}`,
    r.reference ?? '-',
    r.referenceValue === null ? '-' : fmt(r.referenceValue),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
  ]);
  const header = ['stage', 'case', 'metric', 'value', 'reference', 'ref value', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 1000 ? value.toFixed(0) : abs >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
