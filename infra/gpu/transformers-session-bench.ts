/**
 * Issue 14, item 3: can transformers.js own the extraction session at no measurable cost?
 * Loads the same derived prefix graph (tokens -> resid_post.L) two ways and times the same
 * batches through each session, interleaved (A B A B ...) so machine noise hits both alike:
 *  - direct: lib/onnx/backend.ts createSession (our options: threads, no spinning);
 *  - transformers.js: AutoModel.from_pretrained(dir, { model_file_name, device, dtype }), which
 *    selects the device and dtype and creates the onnxruntime-node session; we run
 *    model.sessions.model with our feeds (use_external_data_format: false, so onnxruntime resolves
 *    the graph's own external-data reference, model.onnx_data); (its forward() would add KV-cache plumbing the prefix
 *    graph does not have). Once with transformers.js' default session options, once with ours.
 * Prints one JSON line per variant: session creation seconds, median seconds per batch, tokens/s.
 *
 *   node dist/infra/gpu/transformers-session-bench.js --model DIR [--layer 6] [--batch 16] [--context 128] [--repeats 7] [--device cpu]
 */
import { link, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AutoModel, env } from '@huggingface/transformers';
import { createSession, Tensor, type Device, type InferenceSession } from '../../lib/onnx/backend.js';
import { loadModelFolder, type ModelFolder } from '../../stages/model/model-folder.js';
import { emptyPastFeeds, int64Tensor, loadGraph } from '../../stages/model/prefix-runner.js';
import { buildPrefixGraph, writeDerivedGraph } from '../../stages/model/split-graph.js';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string' },
    layer: { type: 'string', default: '6' },
    batch: { type: 'string', default: '16' },
    context: { type: 'string', default: '128' },
    repeats: { type: 'string', default: '7' },
    device: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: '0' },
  },
});
const layer = Number(opts.layer);
const batch = Number(opts.batch);
const context = Number(opts.context);
const device = opts.device as Device;
const threads = Number(opts.threads);

/** A transformers.js folder next to the derived graph: the model's files hard-linked into a temp dir. */
async function stageFolder(folder: ModelFolder): Promise<{ dir: string; graph: string; fileName: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-tjs-'));
  for (const f of await readdir(folder.dir)) if (f.endsWith('.json')) await link(join(folder.dir, f), join(dir, f));
  await mkdir(join(dir, 'onnx'));
  const fileName = `tsae-prefix-L${layer}-float32`;
  const graph = await writeDerivedGraph(folder, `${fileName}.onnx`, buildPrefixGraph(await loadGraph(folder), folder, layer, 'float32'), join(dir, 'onnx'));
  return { dir, graph, fileName };
}

function feedsFor(folder: ModelFolder, session: InferenceSession): Record<string, Tensor> {
  let state = 11;
  const ids = Int32Array.from({ length: batch * context }, () => 3 + ((state = (state * 1103515245 + 12345) % 2 ** 31) % 200_000));
  const feeds: Record<string, Tensor> = {
    input_ids: int64Tensor(ids, 0, batch, context),
    attention_mask: int64Tensor(undefined, 1, batch, context),
    ...emptyPastFeeds(folder, session.inputNames, batch),
  };
  return Object.fromEntries(Object.entries(feeds).filter(([name]) => session.inputNames.includes(name)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const folder = await loadModelFolder(opts.model!);
  const staged = await stageFolder(folder);
  env.allowRemoteModels = false;
  const ourOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };
  try {
    const sessions: Record<string, { session: InferenceSession; createSeconds: number }> = {};
    let t = performance.now();
    sessions.direct = { session: await createSession(staged.graph, { device, intraOpThreads: threads }), createSeconds: 0 };
    sessions.direct.createSeconds = (performance.now() - t) / 1000;
    for (const [name, sessionOptions] of [['transformers.js (its defaults)', undefined], ['transformers.js (our session options)', ourOptions]] as const) {
      t = performance.now();
      const model = await AutoModel.from_pretrained(staged.dir, { model_file_name: staged.fileName, device, dtype: 'fp32', local_files_only: true, use_external_data_format: false, session_options: sessionOptions as never });
      sessions[name] = { session: (model as unknown as { sessions: Record<string, InferenceSession> }).sessions.model, createSeconds: (performance.now() - t) / 1000 };
    }
    const names = Object.keys(sessions);
    const feeds = feedsFor(folder, sessions.direct.session);
    const reference = (await sessions.direct.session.run(feeds)).residual.data as Float32Array;
    const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of names) {
      const out = (await sessions[n].session.run(feeds)).residual.data as Float32Array;
      if (out.some((v, i) => v !== reference[i])) throw new Error(`${n}: residuals differ from the direct session's`);
    }
    for (let r = 0; r < Number(opts.repeats); r++) {
      for (const n of r % 2 === 0 ? names : [...names].reverse()) {
        const started = performance.now();
        await sessions[n].session.run(feeds);
        times[n].push((performance.now() - started) / 1000);
      }
    }
    for (const n of names) {
      const seconds = median(times[n]);
      process.stdout.write(JSON.stringify({ variant: n, device, layer, batch, context, createSeconds: +sessions[n].createSeconds.toFixed(3), medianSecondsPerBatch: +seconds.toFixed(4), minSecondsPerBatch: +Math.min(...times[n]).toFixed(4), tokensPerSecond: Math.round((batch * context) / seconds), runs: times[n].map((x) => +x.toFixed(4)) }) + '\n');
    }
  } finally {
    await rm(staged.dir, { recursive: true, force: true });
  }
}

await main();
