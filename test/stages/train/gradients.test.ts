/**
 * Finite-difference checks of every variant's analytic backward, for every parameter entry,
 * on float64 graphs. Stop-gradient values (AuxK residual, gated's frozen decoder, JumpReLU's
 * surrogate anchor) are pinned at the current point so the numeric derivative is of the loss the
 * backward differentiates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession, Tensor } from '../../../lib/onnx/backend.js';
import { buildGradientGraph } from '../../../stages/train/gradient-graph.js';
import { TrainConfig, TRAIN_VARIANTS } from '../../../schemas/train.js';
import { DIMS, fdConfig, randomProblem } from './fd-helpers.js';

const H = 1e-6;
const REL_TOL = 1e-6;

function tensor(v: { data: Float64Array; dims: number[] }) {
  return new Tensor('float64', v.data, v.dims);
}

const CASES: [string, TrainConfig][] = [
  ...TRAIN_VARIANTS.map((v) => [v, fdConfig(v)] as [string, TrainConfig]),
  // dictionary_learning's two-sided target-L0 penalty (L0 of this problem is about 8, target 5).
  ['jumprelu quadratic L0 penalty', TrainConfig.parse({ ...fdConfig('jumprelu'), l0Penalty: 'quadratic', targetL0: 5, targetPenaltyCoefficient: 0.4 })],
];

for (const [name, cfg] of CASES) {
  test(`${name}: analytic gradients match central finite differences for every parameter`, async () => {
    const record = buildGradientGraph(cfg, DIMS, 'float64', 'record');
    const pinned = buildGradientGraph(cfg, DIMS, 'float64', 'pinned');
    const rec = await createSession(record.model, { device: 'cpu', intraOpThreads: 1 });
    const pin = await createSession(pinned.model, { device: 'cpu', intraOpThreads: 1 });
    const problem = randomProblem(cfg, 7);
    const feeds: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(problem.feeds)) feeds[k] = tensor(v);
    for (const [k, v] of Object.entries(problem.params)) feeds[`param:${k}`] = tensor(v);
    const base = await rec.run(feeds);
    const pinnedFeeds = { ...feeds };
    for (const f of record.frozen) pinnedFeeds[`frozen:${f.name}`] = base[`frozen:${f.name}`];
    const lossAt = async (param: string, data: Float64Array) => {
      const out = await pin.run({ ...pinnedFeeds, [`param:${param}`]: new Tensor('float64', data, problem.params[param].dims) });
      return (out.loss.data as Float64Array)[0];
    };
    let checked = 0;
    let nonzero = 0;
    for (const param of record.params) {
      const analytic = base[`grad:${param}`].data as Float64Array;
      const values = problem.params[param].data;
      assert.equal(analytic.length, values.length, `${param} gradient shape`);
      const scale = Math.max(...Array.from(analytic, Math.abs), 1e-3);
      for (let i = 0; i < values.length; i++) {
        const plus = Float64Array.from(values);
        const minus = Float64Array.from(values);
        plus[i] += H;
        minus[i] -= H;
        const numeric = ((await lossAt(param, plus)) - (await lossAt(param, minus))) / (2 * H);
        const err = Math.abs(numeric - analytic[i]);
        assert.ok(err <= REL_TOL * scale + 1e-9, `${name} d loss/d ${param}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
        checked++;
        if (Math.abs(analytic[i]) > 1e-9) nonzero++;
      }
    }
    // The check is meaningful only if most gradient entries are non-zero.
    assert.ok(nonzero > checked * 0.3, `${name}: only ${nonzero} of ${checked} gradient entries are non-zero`);
  });
}
