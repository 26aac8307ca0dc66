/**
 * Limited-memory BFGS for smooth convex objectives (the logistic probes). Stops like SciPy's
 * L-BFGS-B as scikit-learn calls it: when max|grad| <= gradientTolerance, or when the relative
 * decrease of f falls under 64 * machine epsilon (sklearn's `ftol`), or after maxIterations.
 * The line search is Armijo backtracking: enough for convex f, where s.y >= 0 always holds.
 */
export interface LbfgsOptions {
  maxIterations: number;
  /** Stop when the largest absolute gradient entry is at most this. */
  gradientTolerance: number;
  /** Number of (s, y) pairs kept. */
  memory: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

/** Writes the gradient of f at x into `grad` and returns f(x). */
export type ValueAndGradient = (x: Float64Array, grad: Float64Array) => number;

export const DEFAULT_LBFGS: LbfgsOptions = { maxIterations: 1000, gradientTolerance: 1e-6, memory: 10 };

const FTOL = 64 * Number.EPSILON;
const ARMIJO_C1 = 1e-4;
const MAX_BACKTRACKS = 50;

export function minimizeLbfgs(fg: ValueAndGradient, x0: Float64Array, options: LbfgsOptions = DEFAULT_LBFGS): LbfgsResult {
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rhoList: number[] = [];
  const dir = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  for (let iter = 0; iter < options.maxIterations; iter++) {
    if (maxAbs(g) <= options.gradientTolerance) return { x, value: f, iterations: iter, converged: true };
    twoLoopDirection(g, sList, yList, rhoList, dir);
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sList.length = yList.length = rhoList.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i];
      slope = -dot(g, g);
    }
    let step = sList.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;
    let fNew = NaN;
    let accepted = false;
    for (let b = 0; b < MAX_BACKTRACKS; b++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = fg(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + ARMIJO_C1 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) return { x, value: f, iterations: iter, converged: false };
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (sList.length === options.memory) {
        sList.shift();
        yList.shift();
        rhoList.shift();
      }
      sList.push(s);
      yList.push(y);
      rhoList.push(1 / sy);
    }
    const decrease = (f - fNew) / Math.max(Math.abs(f), Math.abs(fNew), 1);
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    if (decrease <= FTOL) return { x, value: f, iterations: iter + 1, converged: maxAbs(g) <= options.gradientTolerance * 100 };
  }
  return { x, value: f, iterations: options.maxIterations, converged: maxAbs(g) <= options.gradientTolerance };
}

/** dir = -H g with the two-loop recursion (Nocedal and Wright, Algorithm 7.4). */
function twoLoopDirection(
  g: Float64Array,
  sList: Float64Array[],
  yList: Float64Array[],
  rhoList: number[],
  dir: Float64Array,
): void {
  const m = sList.length;
  const alpha = new Float64Array(m);
  dir.set(g);
  for (let k = m - 1; k >= 0; k--) {
    alpha[k] = rhoList[k] * dot(sList[k], dir);
    axpy(-alpha[k], yList[k], dir);
  }
  if (m > 0) {
    const gamma = dot(sList[m - 1], yList[m - 1]) / dot(yList[m - 1], yList[m - 1]);
    for (let i = 0; i < dir.length; i++) dir[i] *= gamma;
  }
  for (let k = 0; k < m; k++) {
    const beta = rhoList[k] * dot(yList[k], dir);
    axpy(alpha[k] - beta, sList[k], dir);
  }
  for (let i = 0; i < dir.length; i++) dir[i] = -dir[i];
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
  return acc;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}
