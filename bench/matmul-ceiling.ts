/**
 * The FLOP ceiling the benchmarks compare against: a plain onnxruntime [rows, dIn] x [dIn, dOut]
 * MatMul, 8 per `session.run` inside a Loop (so no output copies), on the given thread count.
 * Benchmarks alternate its timings with their own runs because the machine's load drifts.
 */
import { GraphBuilder } from '../lib/onnx/graph-builder.js';
import { createSession, Tensor } from '../lib/onnx/backend.js';
import { Prng } from '../stages/train/prng.js';

export interface MatmulCeiling {
  /** Milliseconds per MatMul of one timed run. */
  time(): Promise<number>;
  /** GFLOP/s for a MatMul time in milliseconds. */
  gflops(msPerMatmul: number): number;
  release(): Promise<void>;
}

export async function matmulCeiling(rows: number, dIn: number, dOut: number, threads: number): Promise<MatmulCeiling> {
  const g = new GraphBuilder('float32');
  const xs = g.input('xs', ['M', rows, dIn]);
  const w = g.input('w', [dIn, dOut]);
  const [acc] = g.loop(g.input('trip', [], 'int64'), [{ value: g.scalar(0) }], (b, iter, [sum]) => {
    const y = b.matmul(b.gather(xs, iter, 0), w);
    return { carried: [b.add(sum, b.reduceSum(b.slice(y, [0, 0], [1, 1], [0, 1]), null))], scans: [] };
  });
  g.output('acc', acc);
  const session = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: threads });
  const rng = Prng.fromSeed(2);
  const feeds = {
    xs: new Tensor('float32', Float32Array.from({ length: 8 * rows * dIn }, () => rng.nextFloat() - 0.5), [8, rows, dIn]),
    w: new Tensor('float32', Float32Array.from({ length: dIn * dOut }, () => rng.nextFloat() - 0.5), [dIn, dOut]),
    trip: new Tensor('int64', BigInt64Array.of(8n), []),
  };
  await session.run(feeds); // warm-up
  return {
    async time() {
      const t0 = performance.now();
      await session.run(feeds);
      return (performance.now() - t0) / 8;
    },
    gflops: (ms) => (2 * rows * dIn * dOut) / (ms / 1000) / 1e9,
    release: () => session.release(),
  };
}
