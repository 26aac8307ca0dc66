import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csrFromDense, csrMatrix, denseMatrix } from '../../../stages/evaluate/design-matrix.js';
import { createSmoothPart, fitL1LogisticMulti } from '../../../stages/evaluate/l1-logistic-regression.js';
import {
  accuracyOf,
  balancedSampleWeights,
  fitLogisticL2,
  fitSklearnLogistic,
  sigmoid,
  sklearnL2,
  softplus,
  standardisedL2Objective,
} from '../../../stages/evaluate/logistic-regression.js';
import { createRng } from '../../../stages/evaluate/random.js';
import { assertClose, f32, i32, loadEvalFixture } from './helpers/fixture.js';

const fixture = loadEvalFixture('logistic');
const [n, d] = fixture.tensors.x.shape;
const X = denseMatrix(f32(fixture, 'x'), n, d);
const y = Uint8Array.from(i32(fixture, 'y'));
const Xtest = denseMatrix(f32(fixture, 'x_test'), fixture.tensors.x_test.shape[0], d);
const yTest = Uint8Array.from(i32(fixture, 'y_test'));

/** sklearn's objective C * sum s_i loss_i + ||w||^2 / 2 at (w, b). */
function sklearnObjective(w: ArrayLike<number>, b: number, C: number, weights?: Float64Array): number {
  const z = new Float64Array(n);
  X.matvec(Float64Array.from(w), z);
  let loss = 0;
  for (let i = 0; i < n; i++) loss += (weights ? weights[i] : 1) * (softplus(z[i] + b) - y[i] * (z[i] + b));
  let pen = 0;
  for (let j = 0; j < d; j++) pen += w[j] * w[j];
  return C * loss + 0.5 * pen;
}

for (const name of ['plain', 'balanced', 'c_0_01'] as const) {
  test(`L2 logistic regression matches scikit-learn (${name})`, () => {
    const ref = fixture.expected[name];
    const C = ref.kwargs.C ?? 1;
    const classWeight = ref.kwargs.class_weight ?? null;
    const model = fitSklearnLogistic(X, y, { C, classWeight });
    assert.ok(model.converged, 'solver converged');
    const weights = classWeight ? balancedSampleWeights(y) : undefined;
    const ours = sklearnObjective(model.weights, model.bias, C, weights);
    const theirs = sklearnObjective(ref.sklearn_coef, ref.sklearn_intercept, C, weights);
    assert.ok(ours <= theirs + 1e-9 * Math.abs(theirs), `objective ${ours} <= sklearn's ${theirs}`);
    const scale = Math.max(...ref.optimum_coef.map(Math.abs));
    ref.optimum_coef.forEach((c: number, j: number) => assertClose(model.weights[j], c, 1e-4 * scale, `coef[${j}]`));
    assertClose(model.bias, ref.optimum_intercept, 1e-4 * Math.max(1, Math.abs(ref.optimum_intercept)), 'intercept');
    const accuracy = accuracyOf(model, Xtest, yTest);
    assert.equal(accuracy, ref.optimum_test_accuracy);
    assert.ok(Math.abs(accuracy - ref.sklearn_test_accuracy) <= 0.01, 'test accuracy within 0.01 of sklearn');
  });
}

/** Central differences of f along each coordinate, against the analytic gradient. */
function checkGradient(f: (v: Float64Array, g: Float64Array) => number, at: Float64Array, label: string): void {
  const grad = new Float64Array(at.length);
  f(at, grad);
  const h = 1e-6;
  for (let j = 0; j < at.length; j++) {
    const plus = at.slice();
    const minus = at.slice();
    plus[j] += h;
    minus[j] -= h;
    const scratch = new Float64Array(at.length);
    const numeric = (f(plus, scratch) - f(minus, scratch)) / (2 * h);
    assertClose(grad[j], numeric, 1e-6 * Math.max(1, Math.abs(numeric)), `${label} d/dv[${j}]`);
  }
}

test('the standardised L2 objective and the L1 smooth part have finite-difference-exact gradients', () => {
  const rng = createRng(8);
  const rows = 40;
  const cols = 6;
  const values = Float32Array.from({ length: rows * cols }, () => rng.normal() * 4 + 2);
  const labels = Uint8Array.from({ length: rows }, () => (rng.next() < 0.3 ? 1 : 0));
  const weights = Float64Array.from({ length: rows }, () => 0.5 + rng.next());
  const { objective } = standardisedL2Objective(denseMatrix(values, rows, cols), labels, { l2: 0.2, sampleWeights: weights });
  checkGradient(objective, Float64Array.from({ length: cols + 1 }, () => rng.normal()), 'L2 objective');
  const outputs = 3;
  const multiLabels = Uint8Array.from({ length: rows * outputs }, () => (rng.next() < 0.4 ? 1 : 0));
  const multiWeights = Float64Array.from({ length: rows * outputs }, () => 0.5 + rng.next());
  const smooth = createSmoothPart(csrMatrix(csrFromDense(values, rows, cols)), multiLabels, multiWeights, outputs, 0.05);
  const packed = (v: Float64Array, g: Float64Array) => {
    const gW = new Float64Array(cols * outputs);
    const gB = new Float64Array(outputs);
    const f = smooth.valueAndGradient(v.subarray(0, cols * outputs), v.subarray(cols * outputs), gW, gB);
    g.set(gW, 0);
    g.set(gB, cols * outputs);
    return f;
  };
  checkGradient(packed, Float64Array.from({ length: (cols + 1) * outputs }, () => 0.3 * rng.normal()), 'L1 smooth part');
});

test('the logistic gradient vanishes at the fitted optimum (finite differences)', () => {
  const rng = createRng(1);
  const rows = 30;
  const cols = 5;
  const values = Float32Array.from({ length: rows * cols }, () => rng.normal());
  const labels = Uint8Array.from({ length: rows }, () => (rng.next() < 0.4 ? 1 : 0));
  const M = denseMatrix(values, rows, cols);
  const l2 = 0.3;
  const f = (w: Float64Array, b: number) => {
    const z = new Float64Array(rows);
    M.matvec(w, z);
    let loss = 0;
    for (let i = 0; i < rows; i++) loss += softplus(z[i] + b) - labels[i] * (z[i] + b);
    let pen = 0;
    for (const v of w) pen += v * v;
    return loss / rows + 0.5 * l2 * pen;
  };
  // At the optimum every partial derivative of f is ~0: check by central differences.
  const model = fitLogisticL2(M, labels, { l2 });
  const h = 1e-5;
  for (let j = 0; j <= cols; j++) {
    const plus = Float64Array.from(model.weights);
    const minus = Float64Array.from(model.weights);
    let bp = model.bias;
    let bm = model.bias;
    if (j < cols) {
      plus[j] += h;
      minus[j] -= h;
    } else {
      bp += h;
      bm -= h;
    }
    const derivative = (f(plus, bp) - f(minus, bm)) / (2 * h);
    assert.ok(Math.abs(derivative) < 1e-6, `df/dw[${j}] = ${derivative} at the optimum`);
  }
  assert.ok(sigmoid(800) === 1 && sigmoid(-800) === 0 && Number.isFinite(softplus(800)));
});

test('dense and CSR design matrices give the same fit', () => {
  const rng = createRng(2);
  const rows = 80;
  const cols = 12;
  const values = Float32Array.from({ length: rows * cols }, () => (rng.next() < 0.3 ? Math.abs(rng.normal()) : 0));
  const labels = Uint8Array.from({ length: rows }, (_, i) => (values[i * cols] + values[i * cols + 1] > 0.5 ? 1 : 0));
  const a = fitLogisticL2(denseMatrix(values, rows, cols), labels, { l2: sklearnL2(1, rows) });
  const b = fitLogisticL2(csrMatrix(csrFromDense(values, rows, cols)), labels, { l2: sklearnL2(1, rows) });
  a.weights.forEach((w, j) => assertClose(b.weights[j], w, 1e-6, `w[${j}]`));
});

test('L1 multi-output probes satisfy the lasso optimality conditions', () => {
  const rng = createRng(3);
  const rows = 120;
  const cols = 20;
  const outputs = 3;
  const values = Float32Array.from({ length: rows * cols }, () => (rng.next() < 0.25 ? Math.abs(rng.normal()) : 0));
  const labels = new Uint8Array(rows * outputs);
  for (let i = 0; i < rows; i++) for (let k = 0; k < outputs; k++) labels[i * outputs + k] = values[i * cols + k] > 0 ? 1 : 0;
  const weights = new Float64Array(rows * outputs).fill(1);
  const M = csrMatrix(csrFromDense(values, rows, cols));
  const l1 = 0.01;
  const model = fitL1LogisticMulti(M, labels, weights, outputs, { l1, l2: 0, maxIterations: 5000, tolerance: 1e-5 });
  assert.ok(model.violation <= 1e-5, `converged (violation ${model.violation})`);
  // KKT: |grad_j| <= l1 where w_j = 0, grad_j = -l1 * sign(w_j) otherwise.
  const z = new Float64Array(rows * outputs);
  M.matmat(model.weights, outputs, z);
  const r = new Float64Array(rows * outputs);
  for (let i = 0; i < rows * outputs; i++) r[i] = (sigmoid(z[i] + model.biases[i % outputs]) - labels[i]) / rows;
  const g = new Float64Array(cols * outputs);
  M.rmatmat(r, outputs, g);
  for (let j = 0; j < cols * outputs; j++) {
    const w = model.weights[j];
    if (w === 0) assert.ok(Math.abs(g[j]) <= l1 + 1e-5, `|g| ${g[j]} <= l1 at zero weight`);
    else assertClose(g[j], -l1 * Math.sign(w), 1e-5, `g[${j}] at nonzero weight`);
  }
  // The label-defining latent gets the largest weight of each probe.
  for (let k = 0; k < outputs; k++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (model.weights[j * outputs + k] > model.weights[best * outputs + k]) best = j;
    assert.equal(best, k);
  }
});
