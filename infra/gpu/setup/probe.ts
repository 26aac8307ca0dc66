/**
 * The set-up's check, run as a child process (so a failed dlopen or CUDA init leaves the
 * set-up's own process clean, and onnxruntime's log line on stderr, which names the missing
 * library, can be captured): preloads what tsae-cuda.json lists, loads onnxruntime-node from
 * the given folder, creates a session on the CUDA provider alone and runs a MatMul that must
 * match a JavaScript reference. Prints one JSON line; exit code 0 when CUDA works.
 *
 *   node dist/infra/gpu/setup/probe.js <onnxruntime-node folder>
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.js';
import { preloadCudaRuntime, readCudaManifest } from '../../../lib/onnx/cuda-libs.js';

type Ort = typeof import('onnxruntime-node');

const N = 64;

/** A [N, N] x [N, N] MatMul graph and its inputs; the reference product in float64. */
function matmulCase() {
  const g = new GraphBuilder('float32');
  const a = g.input('a', [N, N]);
  const b = g.input('b', [N, N]);
  g.output('c', g.matmul(a, b));
  const x = Float32Array.from({ length: N * N }, (_, i) => Math.sin(i * 0.37));
  const y = Float32Array.from({ length: N * N }, (_, i) => Math.cos(i * 0.11));
  const want = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let k = 0; k < N; k++) for (let j = 0; j < N; j++) want[i * N + j] += x[i * N + k] * y[k * N + j];
  return { model: g.toModel('tsae-cuda-probe'), x, y, want };
}

async function probe(ortDir: string): Promise<Record<string, unknown>> {
  const binDir = join(ortDir, 'bin', 'napi-v6', process.platform, process.arch);
  const manifest = readCudaManifest(binDir);
  if (!manifest) return { ok: false, stage: 'manifest', error: `no tsae-cuda.json in ${binDir}` };
  const { driver, failures } = preloadCudaRuntime(manifest);
  // Without a driver we still create the session: onnxruntime's loader message then shows
  // whether libcuda.so.1 is the only thing missing (everything else resolved).
  const libraryFailures = failures.filter((f) => !f.startsWith('libcuda.so.1:'));
  if (libraryFailures.length > 0) return { ok: false, stage: 'preload', driver, error: libraryFailures.join('; ') };
  const ort = createRequire(join(ortDir, 'package.json'))('./') as Ort;
  const { model, x, y, want } = matmulCase();
  let session;
  try {
    session = await ort.InferenceSession.create(model, { executionProviders: [{ name: 'cuda', deviceId: 0 }], logSeverityLevel: 3 });
  } catch (error) {
    return { ok: false, stage: 'session', driver, error: String((error as Error).message ?? error).split('\n')[0] };
  }
  const started = performance.now();
  const out = await session.run({ a: new ort.Tensor('float32', x, [N, N]), b: new ort.Tensor('float32', y, [N, N]) });
  const ms = performance.now() - started;
  const got = out.c.data as Float32Array;
  let maxRel = 0;
  for (let i = 0; i < got.length; i++) maxRel = Math.max(maxRel, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  await session.release();
  const residency = await deviceResidency(ort, model, x, y);
  // TF32 MatMuls (the CUDA provider's default) keep about 3 decimal digits.
  const ok = maxRel < 1e-2;
  return { ok, stage: 'run', driver, maxRelError: maxRel, firstRunMs: Math.round(ms), residency, error: ok ? null : `CUDA MatMul differs from the reference by ${maxRel}` };
}

/**
 * Evidence for the README: what onnxruntime-node 1.30 returns when a CUDA session is asked to
 * keep outputs on the device (its binding binds 'gpu-buffer' outputs to WebGPU memory only).
 */
async function deviceResidency(ort: Ort, model: Uint8Array, x: Float32Array, y: Float32Array): Promise<string> {
  try {
    const session = await ort.InferenceSession.create(model, { executionProviders: [{ name: 'cuda', deviceId: 0 }], logSeverityLevel: 3, preferredOutputLocation: 'gpu-buffer' });
    const out = await session.run({ a: new ort.Tensor('float32', x, [N, N]), b: new ort.Tensor('float32', y, [N, N]) });
    await session.release();
    return `preferredOutputLocation 'gpu-buffer' gave location '${out.c.location}'`;
  } catch (error) {
    return `preferredOutputLocation 'gpu-buffer' failed: ${String((error as Error).message ?? error).split('\n')[0]}`;
  }
}

const ortDir = process.argv[2];
if (!ortDir) {
  process.stderr.write('usage: node probe.js <onnxruntime-node folder>\n');
  process.exit(2);
}
const result = await probe(ortDir).catch((error: Error) => ({ ok: false, stage: 'crash', error: String(error?.stack ?? error) }));
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(result.ok ? 0 : 1);
