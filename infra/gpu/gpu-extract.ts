/**
 * GPU extraction check (run on the lent GPU machine by infra/gpu/run.sh, never in CI): extraction
 * tokens/s of the real extract stage with each requested execution provider beside CPU, on a
 * Gemma-3-270M-shaped model (layer 6, batch x context as given), plus the device's agreement with
 * CPU on one batch (relative error of float32 residuals). Prints JSON lines, then a table.
 *
 *   node gpu-extract.mjs --model DIR [--layer 6] [--batch 16] [--context 128] [--batches 8] [--devices cpu,webgpu,cuda]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TokenRow } from '../../schemas/token-shard.js';
import { defaultStageContext } from '../../lib/core/context.js';
import { extractActivations } from '../../stages/extract/extract.js';
import { loadModelFolder } from '../../stages/model/model-folder.js';
import { createPrefixRunner } from '../../stages/model/prefix-runner.js';
import { availableDevices, type Device } from '../../lib/onnx/backend.js';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string' },
    layer: { type: 'string', default: '6' },
    batch: { type: 'string', default: '16' },
    context: { type: 'string', default: '128' },
    batches: { type: 'string', default: '8' },
    devices: { type: 'string', default: 'cpu,webgpu,cuda' },
    threads: { type: 'string', default: '0' },
  },
});
const layer = Number(opts.layer);
const batch = Number(opts.batch);
const context = Number(opts.context);
const batches = Number(opts.batches);

async function* rows(count: number): AsyncIterable<TokenRow> {
  let state = 7;
  for (let r = 0; r < count; r++) {
    const ids = new Int32Array(context);
    const special = new Uint8Array(context);
    ids[0] = 2;
    special[0] = 1;
    for (let p = 1; p < context; p++) ids[p] = 3 + ((state = (state * 1103515245 + 12345) % 2 ** 31) % 200_000);
    yield { rowId: r, inputIds: ids, specialMask: special, docIds: [`r${r}`], docStarts: [0], docOffsets: [0], sourceSets: ['gpu-check'], split: 'train' };
  }
}

async function firstBatch(): Promise<Int32Array> {
  const ids = new Int32Array(batch * context);
  let b = 0;
  for await (const row of rows(batch)) ids.set(row.inputIds, context * b++);
  return ids;
}

async function measure(device: Device, reference: Float32Array | null) {
  const folder = await loadModelFolder(opts.model!);
  const runner = await createPrefixRunner({ folder, layer, dtype: 'float32', device, intraOpThreads: Number(opts.threads) });
  const got = (await runner.run(await firstBatch(), batch, context)) as Float32Array;
  await runner.dispose();
  let relError: number | null = null;
  if (reference) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < got.length; i++) {
      num += (got[i] - reference[i]) ** 2;
      den += reference[i] ** 2;
    }
    relError = Math.sqrt(num / den);
  }
  const out = await mkdtemp(join(tmpdir(), `gpu-extract-${device}-`));
  const common = { modelDir: opts.model!, layer, dtype: 'float16' as const, batchSize: batch, device, scaling: 'none' as const, intraOpThreads: Number(opts.threads), rowsPerPart: 4 * batch };
  await extractActivations({ ...common, rows: rows(batch), totalRows: batch }, join(out, 'warm'), defaultStageContext());
  const started = performance.now();
  const summary = await extractActivations({ ...common, rows: rows(batches * batch), totalRows: batches * batch }, join(out, 'run'), defaultStageContext());
  const seconds = (performance.now() - started) / 1000;
  await rm(out, { recursive: true, force: true });
  return { residual: got, result: { device, tokensPerSecond: summary.tokens / seconds, tokens: summary.tokens, seconds, relErrorVsCpu: relError } };
}

const results: Record<string, unknown>[] = [];
let cpuResidual: Float32Array | null = null;
process.stdout.write(JSON.stringify({ event: 'available', devices: availableDevices(), layer, batch, context, batches }) + '\n');
for (const device of opts.devices!.split(',') as Device[]) {
  try {
    const { residual, result } = await measure(device, device === 'cpu' ? null : cpuResidual);
    if (device === 'cpu') cpuResidual = residual;
    results.push(result);
  } catch (error) {
    results.push({ device, error: String((error as Error).message ?? error).split('\n')[0] });
  }
  process.stdout.write(JSON.stringify(results.at(-1)) + '\n');
}
const cpu = results.find((r) => r.device === 'cpu' && typeof r.tokensPerSecond === 'number')?.tokensPerSecond as number | undefined;
process.stdout.write('\ndevice    tokens/s    x cpu    rel.err vs cpu\n');
for (const r of results) {
  if (typeof r.tokensPerSecond !== 'number') {
    process.stdout.write(`${String(r.device).padEnd(8)}  unavailable: ${r.error}\n`);
    continue;
  }
  const ratio = cpu ? (r.tokensPerSecond / cpu).toFixed(2) : '-';
  process.stdout.write(`${String(r.device).padEnd(8)}  ${r.tokensPerSecond.toFixed(0).padStart(8)}  ${ratio.padStart(7)}    ${r.relErrorVsCpu ?? '-'}\n`);
}
