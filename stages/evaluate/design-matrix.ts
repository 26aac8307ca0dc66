/**
 * Read-only design matrices for the probe solvers: dense row-major float32 (residuals, pooled
 * activations) or CSR (SAE latents, which are mostly zeros). Products accumulate in float64.
 */
export interface DesignMatrix {
  readonly rows: number;
  readonly cols: number;
  /** out[i] = sum_j X[i, j] * w[j]; w: [cols], out: [rows]. */
  matvec(w: Float64Array, out: Float64Array): void;
  /** out[j] = sum_i X[i, j] * r[i]; r: [rows], out: [cols]. */
  rmatvec(r: Float64Array, out: Float64Array): void;
  /** out[i, k] = sum_j X[i, j] * w[j, k]; w: [cols, outputs] row-major, out: [rows, outputs]. */
  matmat(w: Float64Array, outputs: number, out: Float64Array): void;
  /** out[j, k] = sum_i X[i, j] * r[i, k]; r: [rows, outputs], out: [cols, outputs]. */
  rmatmat(r: Float64Array, outputs: number, out: Float64Array): void;
  /** Root mean square of each column, [cols] (solvers rescale features with it). */
  columnRms(): Float64Array;
}

/** A dense [rows, cols] row-major matrix view over `values` (not copied). */
export function denseMatrix(values: Float32Array | Float64Array, rows: number, cols: number): DesignMatrix {
  if (values.length < rows * cols) throw new RangeError(`dense matrix needs ${rows * cols} values, got ${values.length}`);
  return {
    rows,
    cols,
    columnRms() {
      const out = new Float64Array(cols);
      for (let i = 0; i < rows; i++) {
        const base = i * cols;
        for (let j = 0; j < cols; j++) out[j] += values[base + j] * values[base + j];
      }
      for (let j = 0; j < cols; j++) out[j] = Math.sqrt(out[j] / Math.max(rows, 1));
      return out;
    },
    matvec(w, out) {
      for (let i = 0; i < rows; i++) {
        let acc = 0;
        const base = i * cols;
        for (let j = 0; j < cols; j++) acc += values[base + j] * w[j];
        out[i] = acc;
      }
    },
    rmatvec(r, out) {
      out.fill(0, 0, cols);
      for (let i = 0; i < rows; i++) {
        const ri = r[i];
        if (ri === 0) continue;
        const base = i * cols;
        for (let j = 0; j < cols; j++) out[j] += values[base + j] * ri;
      }
    },
    matmat(w, outputs, out) {
      out.fill(0, 0, rows * outputs);
      for (let i = 0; i < rows; i++) {
        const base = i * cols;
        const ob = i * outputs;
        for (let j = 0; j < cols; j++) {
          const x = values[base + j];
          if (x === 0) continue;
          const wb = j * outputs;
          for (let k = 0; k < outputs; k++) out[ob + k] += x * w[wb + k];
        }
      }
    },
    rmatmat(r, outputs, out) {
      out.fill(0, 0, cols * outputs);
      for (let i = 0; i < rows; i++) {
        const base = i * cols;
        const rb = i * outputs;
        for (let j = 0; j < cols; j++) {
          const x = values[base + j];
          if (x === 0) continue;
          const ob = j * outputs;
          for (let k = 0; k < outputs; k++) out[ob + k] += x * r[rb + k];
        }
      }
    },
  };
}

/** Compressed sparse rows: row i holds indices[indptr[i] .. indptr[i+1]) with their data. */
export interface CsrData {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}

/** CSR from a dense [rows, cols] matrix, keeping entries != 0. */
export function csrFromDense(values: Float32Array, rows: number, cols: number): CsrData {
  let nnz = 0;
  for (let i = 0; i < rows * cols; i++) if (values[i] !== 0) nnz++;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  let p = 0;
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = values[base + j];
      if (v !== 0) {
        indices[p] = j;
        data[p++] = v;
      }
    }
    indptr[i + 1] = p;
  }
  return { rows, cols, indptr, indices, data };
}

export function csrMatrix(csr: CsrData): DesignMatrix {
  const { rows, cols, indptr, indices, data } = csr;
  return {
    rows,
    cols,
    columnRms() {
      const out = new Float64Array(cols);
      for (let p = 0; p < indptr[rows]; p++) out[indices[p]] += data[p] * data[p];
      for (let j = 0; j < cols; j++) out[j] = Math.sqrt(out[j] / Math.max(rows, 1));
      return out;
    },
    matvec(w, out) {
      for (let i = 0; i < rows; i++) {
        let acc = 0;
        for (let p = indptr[i]; p < indptr[i + 1]; p++) acc += data[p] * w[indices[p]];
        out[i] = acc;
      }
    },
    rmatvec(r, out) {
      out.fill(0, 0, cols);
      for (let i = 0; i < rows; i++) {
        const ri = r[i];
        for (let p = indptr[i]; p < indptr[i + 1]; p++) out[indices[p]] += data[p] * ri;
      }
    },
    matmat(w, outputs, out) {
      out.fill(0, 0, rows * outputs);
      // L1 solutions are mostly zero rows of w: skip their columns.
      const active = nonzeroRows(w, cols, outputs);
      for (let i = 0; i < rows; i++) {
        const ob = i * outputs;
        for (let p = indptr[i]; p < indptr[i + 1]; p++) {
          const j = indices[p];
          if (!active[j]) continue;
          const x = data[p];
          const wb = j * outputs;
          for (let k = 0; k < outputs; k++) out[ob + k] += x * w[wb + k];
        }
      }
    },
    rmatmat(r, outputs, out) {
      out.fill(0, 0, cols * outputs);
      for (let i = 0; i < rows; i++) {
        const rb = i * outputs;
        for (let p = indptr[i]; p < indptr[i + 1]; p++) {
          const x = data[p];
          const ob = indices[p] * outputs;
          for (let k = 0; k < outputs; k++) out[ob + k] += x * r[rb + k];
        }
      }
    },
  };
}

/** 1 for each row j of w [cols, outputs] with a nonzero entry. */
function nonzeroRows(w: Float64Array, cols: number, outputs: number): Uint8Array {
  const active = new Uint8Array(cols);
  for (let j = 0; j < cols; j++) {
    for (let k = 0; k < outputs; k++) {
      if (w[j * outputs + k] !== 0) {
        active[j] = 1;
        break;
      }
    }
  }
  return active;
}

/** The columns `columns` of a dense [rows, cols] matrix, as a dense [rows, columns.length] copy. */
export function selectColumns(
  values: Float32Array,
  rows: number,
  cols: number,
  columns: ArrayLike<number>,
): Float32Array {
  const k = columns.length;
  const out = new Float32Array(rows * k);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < k; c++) out[i * k + c] = values[i * cols + columns[c]];
  }
  return out;
}

/** Rows `rowIds` of a dense [rows, cols] matrix, as a dense copy. */
export function selectRows(values: Float32Array, cols: number, rowIds: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rowIds.length * cols);
  for (let r = 0; r < rowIds.length; r++) {
    out.set(values.subarray(rowIds[r] * cols, (rowIds[r] + 1) * cols), r * cols);
  }
  return out;
}
