/**
 * Extraction benchmark (issue 4): tokens/s of extractActivations on the demo model (Gemma 3 270M,
 * layer 6, batch 16 x context 128, 2 threads, float16 storage) beside Hugging Face transformers
 * PyTorch CPU on the same model, layer, batch, context and threads (infra/dev/python/
 * bench_extract_torch.py, kept alive and interleaved run for run with ours so a busy machine slows
 * both alike); and peak RSS at two corpus sizes, each in a
 * fresh child process (`tsx bench/extract.ts --rss-child ROWS`), to show memory is flat in corpus size.
 * It also reports the prefix's achieved GFLOP/s beside a plain onnxruntime MatMul of the MLP's
 * shape timed between our runs: the share says how much faster extraction could get at fp32.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenRow } from '../schemas/token-shard.js';
import { defaultStageContext } from '../lib/core/context.js';
import { projectPath } from '../lib/core/package-root.js';
import { extractActivations } from '../stages/extract/extract.js';
import { matmulCeiling } from './matmul-ceiling.js';
import { median, type BenchRecord } from './record.js';
import { demoModelDir, ensureDemoModel, prepareVenvPython, referenceFailed, tailOf } from './toolchain.js';

const LAYER = 6;
const BATCH = 16;
const CONTEXT = 128;
const THREADS = 2;
const CASE = `gemma3-270m L${LAYER} b${BATCH} ctx${CONTEXT} ${THREADS} threads`;
const DEMO_DIR = demoModelDir;
const TORCH_REFERENCE = 'HF transformers 5.24 PyTorch 2.13 CPU, blocks 0..6';

/** Deterministic full-context rows (token values do not change the cost). */
async function* benchRows(count: number, vocab: number): AsyncIterable<TokenRow> {
  let state = 42;
  for (let r = 0; r < count; r++) {
    const ids = new Int32Array(CONTEXT);
    const special = new Uint8Array(CONTEXT);
    ids[0] = 2;
    special[0] = 1;
    for (let p = 1; p < CONTEXT; p++) ids[p] = 3 + ((state = (state * 1103515245 + 12345) % 2 ** 31) % (vocab - 3));
    yield { rowId: r, inputIds: ids, specialMask: special, docIds: [`bench-${r}`], docStarts: [0], docOffsets: [0], sourceSets: ['bench'], split: 'train' };
  }
}

/** The fields of a Hugging Face decoder config.json that the FLOP count needs. */
interface DecoderConfig {
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
}

/**
 * Matrix-product FLOPs per token of the prefix (blocks 0..LAYER): the q/k/v/o projections, the
 * gated MLP's three products and the two attention products over the full context (which the
 * graph computes before masking). Norms, rotary and activations are left out.
 */
function prefixFlopsPerToken(config: DecoderConfig): number {
  const d = config.hidden_size;
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? heads;
  const headDim = config.head_dim ?? d / heads;
  const projections = d * heads * headDim + 2 * d * kvHeads * headDim + heads * headDim * d;
  const mlp = 3 * d * config.intermediate_size;
  const attention = 2 * heads * headDim * CONTEXT;
  return (LAYER + 1) * 2 * (projections + mlp + attention);
}

async function extractOnce(modelDir: string, rows: number): Promise<number> {
  const out = await mkdtemp(join(tmpdir(), 'tsae-bench-extract-'));
  try {
    const summary = await extractActivations(
      { modelDir, layer: LAYER, rows: benchRows(rows, 200_000), totalRows: rows, dtype: 'float16', batchSize: BATCH, device: 'cpu', intraOpThreads: THREADS, rowsPerPart: 64 },
      out,
      defaultStageContext(),
    );
    return summary.tokensPerSecond;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * The PyTorch reference as a long-lived child (`--serve`): it loads the model once, then times one
 * pass per request, so its runs can be interleaved with ours and a busy machine slows both alike.
 */
async function startTorchReference(batches: number): Promise<{ run(): Promise<number>; close(): void }> {
  const python = await prepareVenvPython();
  const args = [projectPath('infra', 'dev', 'python', 'bench_extract_torch.py'), '--source', 'gemma3-270m', '--cache', join(DEMO_DIR(), '..', '.cache'),
    '--layer', String(LAYER), '--batch', String(BATCH), '--context', String(CONTEXT), '--threads', String(THREADS), '--batches', String(batches), '--serve'];
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  child.once('error', (error) => (stderr += `\ncannot start ${python}: ${error.message}`));
  const next = async () => {
    const line = await lines.next();
    if (line.done) referenceFailed('extract', TORCH_REFERENCE, `bench_extract_torch.py exited:\n${tailOf(stderr, 5)}`);
    return JSON.parse(line.value);
  };
  await next(); // {"ready": true}
  return {
    async run() {
      child.stdin.write('run\n');
      return (await next()).tokensPerSecond as number;
    },
    close: () => child.stdin.end(),
  };
}

function peakRss(rows: number): number {
  const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--rss-child', String(rows)], {
    encoding: 'utf8',
    cwd: projectPath(),
    env: { ...process.env, TSAE_DEMO_MODEL: DEMO_DIR() },
  });
  if (run.status !== 0) throw new Error(`rss child failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!).maxRssBytes;
}

export async function runExtractBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  await ensureDemoModel();
  const batches = options.quick ? 4 : 8;
  const repeats = options.quick ? 3 : 5;
  await extractOnce(DEMO_DIR(), BATCH); // warm-up: derived graph, page cache
  const torch = await startTorchReference(batches);
  const config = JSON.parse(await readFile(join(DEMO_DIR(), 'config.json'), 'utf8')) as DecoderConfig;
  const ceiling = await matmulCeiling(BATCH * CONTEXT, config.hidden_size, config.intermediate_size, THREADS);
  const ours: number[] = [];
  const theirs: number[] = [];
  const ceilingMs: number[] = [];
  try {
    for (let i = 0; i < repeats; i++) {
      ours.push(await extractOnce(DEMO_DIR(), batches * BATCH));
      ceilingMs.push(await ceiling.time());
      theirs.push(await torch.run());
    }
  } finally {
    torch.close();
    await ceiling.release();
  }
  const achievedGflops = (median(ours) * prefixFlopsPerToken(config)) / 1e9;
  const ceilingGflops = ceiling.gflops(median(ceilingMs));
  const value = median(ours);
  const referenceValue = median(theirs);
  const records: BenchRecord[] = [
    {
      stage: 'extract',
      case: `${CASE}, float16, ${repeats} interleaved repeats`,
      metric: 'tokens_per_s',
      value,
      unit: 'tokens/s',
      reference: TORCH_REFERENCE,
      referenceValue,
      ratio: value / referenceValue,
    },
    {
      stage: 'extract',
      case: `${CASE}, float16, ${repeats} interleaved repeats`,
      metric: 'achieved_gflops',
      value: achievedGflops,
      unit: 'GFLOP/s',
      reference: `onnxruntime MatMul [${BATCH * CONTEXT}x${config.hidden_size}]x[${config.hidden_size}x${config.intermediate_size}]`,
      referenceValue: ceilingGflops,
      ratio: achievedGflops / ceilingGflops,
    },
  ];
  // Both sizes span several 64-row parts: RSS settles once the first part has been written.
  const [small, large] = options.quick ? [128, 384] : [128, 768];
  const rssSmall = peakRss(small);
  const rssLarge = peakRss(large);
  records.push(
    { stage: 'extract', case: `${CASE}, ${small} rows`, metric: 'peak_rss', value: rssSmall / 2 ** 20, unit: 'MiB', reference: null, referenceValue: null, ratio: null },
    {
      stage: 'extract',
      case: `${CASE}, ${large} rows vs ${small} rows`,
      metric: 'peak_rss',
      value: rssLarge / 2 ** 20,
      unit: 'MiB',
      reference: `peak RSS at ${small} rows (flat = ratio 1)`,
      referenceValue: rssSmall / 2 ** 20,
      ratio: rssSmall / rssLarge,
    },
  );
  return records;
}

async function rssChild(rows: number): Promise<void> {
  await extractOnce(DEMO_DIR(), rows);
  process.stdout.write(JSON.stringify({ rows, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

if (process.argv[2] === '--rss-child') await rssChild(Number(process.argv[3]));
