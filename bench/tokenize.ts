import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStageContext } from '../lib/core/context.js';
import { projectPath } from '../lib/core/package-root.js';
import { DEMO_SOURCES } from '../stages/corpus/demo/sources.js';
import { planCorpusShards } from '../stages/corpus/plan-shards.js';
import { loadTokenizer, tokenizerFolder } from '../stages/tokenize/load-tokenizer.js';
import { tokenizeShard } from '../stages/tokenize/tokenize-shard.js';
import { median, TOKENIZE_END_TO_END, type BenchRecord } from './record.js';
import { referenceFailed, tailOf, toolchainPython } from './toolchain.js';

const zstd = createRequire(import.meta.url)('zstd-napi') as { compress(data: Uint8Array): Buffer };
const PYTHON_REFERENCE = 'HF tokenizers (Rust via Python), 1 thread';

/** The first `perSource` documents of every demo source, in source order. */
async function sampleTexts(perSource: number): Promise<{ text: string; meta: Record<string, unknown> }[]> {
  const docs: { text: string; meta: Record<string, unknown> }[] = [];
  for (const source of DEMO_SOURCES) {
    let n = 0;
    for await (const doc of source.collect(projectPath('node_modules'))) {
      if (!doc.text.trim()) continue;
      docs.push({ text: doc.text, meta: { pile_set_name: source.pileSetName } });
      if (++n >= perSource) break;
    }
  }
  return docs;
}

/** HF tokenizers' tokens/s on the same texts, in the `ml` toolchain; throws when it cannot run. */
async function pythonReference(textsPath: string, repeats: number): Promise<number> {
  const python = await toolchainPython('ml');
  const script = projectPath('infra', 'dev', 'python', 'bench_tokenize.py');
  const tokJson = join(tokenizerFolder({ kind: 'gemma2' }), 'tokenizer.json');
  const run = spawnSync(python, [script, tokJson, textsPath, String(repeats)], { encoding: 'utf8' });
  if (run.error) referenceFailed('tokenize', PYTHON_REFERENCE, `cannot start ${python}: ${run.error.message}`);
  if (run.status !== 0) referenceFailed('tokenize', PYTHON_REFERENCE, `${script} exited with ${run.status}:\n${tailOf(run.stderr)}`);
  const tokensPerSecond = (JSON.parse(run.stdout) as { tokensPerSecond?: unknown }).tokensPerSecond;
  if (typeof tokensPerSecond !== 'number' || !(tokensPerSecond > 0)) referenceFailed('tokenize', PYTHON_REFERENCE, `no tokensPerSecond in its output: ${run.stdout.slice(0, 200)}`);
  return tokensPerSecond;
}

function record(kase: string, value: number, referenceValue: number): BenchRecord {
  return {
    stage: 'tokenize', case: kase, metric: 'throughput', value, unit: 'tokens/s', reference: PYTHON_REFERENCE, referenceValue,
    ratio: value / referenceValue,
  };
}

/**
 * Tokenization speed on a sample of the demo corpus (all seven sources), single thread:
 * transformers.js encode (piecewise fast path, and whole-text), the whole tokenizeShard stage
 * (zstd + JSON + packing + Parquet), beside HF tokenizers in Python on the same texts.
 * Each pass loads a fresh tokenizer so the piece cache starts cold, as in a new activity.
 */
export async function runTokenizeBench(options: { quick: boolean }): Promise<BenchRecord[]> {
  await toolchainPython('ml'); // before the measurements: a fresh clone installs it here
  const repeats = options.quick ? 1 : 3;
  const docs = await sampleTexts(options.quick ? 25 : 120);
  const texts = docs.map((d) => d.text);
  const dir = await mkdtemp(join(tmpdir(), 'tsae-bench-tok-'));
  try {
    const textsPath = join(dir, 'texts.json');
    await writeFile(textsPath, JSON.stringify(texts));
    await writeFile(join(dir, 'sample.jsonl.zst'), zstd.compress(Buffer.from(docs.map((d) => JSON.stringify(d)).join('\n') + '\n')));
    const [shard] = await planCorpusShards({ path: join(dir, 'sample.jsonl.zst') });
    const fast: number[] = [];
    const whole: number[] = [];
    const stage: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const tokenizer = await loadTokenizer({ kind: 'gemma2' });
      let t = performance.now();
      const n = texts.reduce((a, text) => a + tokenizer.encode(text).length, 0);
      fast.push(n / ((performance.now() - t) / 1000));
      t = performance.now();
      const m = texts.reduce((a, text) => a + tokenizer.encodeWhole(text).length, 0);
      whole.push(m / ((performance.now() - t) / 1000));
      const stageTokenizer = await loadTokenizer({ kind: 'gemma2' });
      t = performance.now();
      const summary = await tokenizeShard({ shard, tokenizer: stageTokenizer }, join(dir, `out-${r}`), defaultStageContext());
      stage.push(summary.tokens.total / ((performance.now() - t) / 1000));
    }
    const python = await pythonReference(textsPath, options.quick ? 1 : 3);
    return [
      record('demo sample: encode, transformers.js piecewise (default)', median(fast), python),
      record('demo sample: encode, transformers.js whole text', median(whole), python),
      record(TOKENIZE_END_TO_END, median(stage), python),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
