import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../lib/onnx/graph-builder.js';
import { createSession, Tensor } from '../../../lib/onnx/backend.js';
import { decodeModel } from '../../../lib/onnx/onnx-proto.js';

test('arithmetic, Gemm options and reductions compute what they say (float32)', async () => {
  const g = new GraphBuilder('float32');
  const a = g.input('a', [2, 3]);
  const b = g.input('b', [2, 3]);
  g.output('gemmT', g.gemm(a, b, { transB: true, alpha: 2 }));
  g.output('rowSums', g.reduceSum(g.mul(a, b), [1]));
  g.output('ss', g.sumSquares(g.sub(a, b)));
  g.output('clampedStep', g.step(a, g.scalar(2)));
  const s = await createSession(g.toModel(), { device: 'cpu', intraOpThreads: 1 });
  const out = await s.run({ a: new Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]), b: new Tensor('float32', Float32Array.of(1, 0, 1, 0, 1, 0), [2, 3]) });
  assert.deepEqual(Array.from(out.gemmT.data as Float32Array), [8, 4, 20, 10]);
  assert.deepEqual(Array.from(out.rowSums.data as Float32Array), [4, 5]);
  assert.equal((out.ss.data as Float32Array)[0], 0 + 4 + 4 + 16 + 16 + 36);
  assert.deepEqual(Array.from(out.clampedStep.data as Float32Array), [0, 0, 1, 1, 1, 1]);
});

test('float64 builders make float64 constants, so graphs run in double precision', async () => {
  const g = new GraphBuilder('float64');
  const x = g.input('x', [1]);
  g.output('y', g.add(x, g.scalar(1e-12)));
  const s = await createSession(g.toModel(), { device: 'cpu' });
  const out = await s.run({ x: new Tensor('float64', Float64Array.of(1), [1]) });
  assert.equal((out.y.data as Float64Array)[0], 1 + 1e-12);
});

test('Loop carries values across iterations and stacks scan outputs; If picks a branch', async () => {
  const g = new GraphBuilder('float32');
  const trip = g.input('trip', [], 'int64');
  const xs = g.input('xs', ['M', 2]);
  const flag = g.input('flag', [], 'bool');
  const [total, partials] = g.loop(trip, [{ value: g.floats([0, 0], [2]) }], (b, iter, [acc]) => {
    const next = b.add(acc, b.gather(xs, iter, 0));
    return { carried: [next], scans: [{ value: b.reduceSum(next, null) }] };
  });
  g.output('total', total);
  g.output('partials', partials);
  const [chosen] = g.ifElse(flag, ['float32'], (b) => [b.scale(total, 10)], (b) => [b.neg(total)]);
  g.output('chosen', chosen);
  const s = await createSession(g.toModel(), { device: 'cpu' });
  const feeds = (f: boolean) => ({
    trip: new Tensor('int64', BigInt64Array.of(3n), []),
    xs: new Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]),
    flag: new Tensor('bool', Uint8Array.of(f ? 1 : 0), []),
  });
  const on = await s.run(feeds(true));
  assert.deepEqual(Array.from(on.total.data as Float32Array), [9, 12]);
  assert.deepEqual(Array.from(on.partials.data as Float32Array), [3, 10, 21]);
  assert.deepEqual(Array.from(on.chosen.data as Float32Array), [90, 120]);
  const off = await s.run(feeds(false));
  assert.deepEqual(Array.from(off.chosen.data as Float32Array), [-9, -12]);
});

test('models carry opset 18 and unique value names', () => {
  const g = new GraphBuilder('float32');
  const x = g.input('x', [1]);
  g.output('y', g.add(g.add(x, g.scalar(1)), g.scalar(1)));
  const model = decodeModel(g.toModel());
  assert.equal(model.opset_import[0].version, 18);
  const names = model.graph.node.flatMap((n: { output: string[] }) => n.output);
  assert.equal(new Set(names).size, names.length);
  assert.equal(model.graph.node.filter((n: { op_type: string }) => n.op_type === 'Constant').length, 1, 'equal constants are shared');
});
