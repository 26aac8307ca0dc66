/**
 * A small typed DSL that writes ONNX graphs (protobufjs objects from onnx-proto.ts), so every
 * training step (forward, analytic backward, optimizer) is one graph that onnxruntime runs.
 *
 * Values are named strings. A builder has one float type, `float32` for training or `float64`
 * for finite-difference checks: every constant made through `scalar`/`floats` and every float
 * input takes it, so the same variant code builds both graphs.
 */
import { encodeModel, type ModelObject } from './onnx-proto.js';
import { clearShapes, constTensor, ELEM, makeModel, node, valueInfo, type AttrValue, type Dim, type ElemType, type FloatType } from './graph-proto.js';

export type { Dim, ElemType, FloatType } from './graph-proto.js';
export { OPSET } from './graph-proto.js';

/** Name of a value in the graph being built. */
export type Val = string;

interface Counter {
  next: number;
}

export class GraphBuilder {
  readonly nodes: ModelObject[] = [];
  readonly inputs: ModelObject[] = [];
  readonly outputs: ModelObject[] = [];
  readonly initializers: ModelObject[] = [];
  private readonly counter: Counter;
  private readonly constCache = new Map<string, Val>();

  constructor(
    readonly floatType: FloatType,
    counter?: Counter,
  ) {
    this.counter = counter ?? { next: 0 };
  }

  /** A fresh unique name; `hint` keeps graphs readable in Netron. */
  fresh(hint: string): Val {
    return `${hint}__${this.counter.next++}`;
  }

  /** A builder for a subgraph (Loop/If body) sharing the name counter, so outer names stay visible. */
  subgraph(): GraphBuilder {
    return new GraphBuilder(this.floatType, this.counter);
  }

  input(name: string, shape: Dim[], elem: ElemType = this.floatType): Val {
    this.inputs.push(valueInfo(name, elem, shape));
    return name;
  }

  /** Declares `value` as graph output `name` (inserting an Identity when the names differ). */
  output(name: string, value: Val, elem: ElemType = this.floatType, shape?: Dim[]): void {
    if (value !== name) this.nodes.push(node('Identity', [value], [name]));
    this.outputs.push(valueInfo(name, elem, shape));
  }

  /**
   * Declares `value` itself as a graph output when a node of this graph produces it and it is
   * not yet an output, so no Identity copy runs (copies of loop-carried parameters cost a pass
   * over memory per step); otherwise falls back to an Identity under a fresh name.
   */
  outputInPlace(value: Val, hint: string, elem: ElemType): void {
    const produced = this.nodes.some((n) => (n.output as string[]).includes(value));
    const taken = this.outputs.some((o) => o.name === value);
    if (produced && !taken) this.outputs.push(valueInfo(value, elem));
    else this.output(this.fresh(hint), value, elem);
  }

  /** Adds a weight stored in the model (little-endian raw data). */
  initializer(name: string, dims: number[], data: Float32Array | Float64Array | BigInt64Array, elem?: ElemType): Val {
    this.initializers.push(constTensor(name, data, dims, elem));
    return name;
  }

  /** A float32 weight stored in an external file next to the model (ONNX external data). */
  externalInitializer(name: string, dims: number[], location: string, offset: number, length: number): Val {
    const entries = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ];
    this.initializers.push({ name, dims, data_type: ELEM.float32, data_location: 1, external_data: entries });
    return name;
  }

  /** Appends a node and returns its output names. */
  op(opType: string, inputs: Val[], attrs: Record<string, AttrValue> = {}, outputs = 1, domain = ''): Val[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push(node(opType, inputs, names, attrs, { domain }));
    return names;
  }

  op1(opType: string, inputs: Val[], attrs: Record<string, AttrValue> = {}): Val {
    return this.op(opType, inputs, attrs, 1)[0];
  }

  // ---- constants -------------------------------------------------------------------------
  /** A float scalar constant of the builder's float type (cached by value). */
  scalar(value: number): Val {
    return this.floats([value], []);
  }

  /** A float tensor constant of the builder's float type. */
  floats(values: number[], dims: number[] = [values.length]): Val {
    const key = `f:${dims.join('x')}:${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const array = this.floatType === 'float64' ? new Float64Array(values) : new Float32Array(values);
    const out = this.constant(constTensor(undefined, array, dims), 'c');
    this.constCache.set(key, out);
    return out;
  }

  /** An int64 tensor constant (shapes, axes, indices). */
  ints(values: number[], dims: number[] = [values.length]): Val {
    const key = `i:${dims.join('x')}:${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const out = this.constant(constTensor(undefined, new BigInt64Array(values.map((v) => BigInt(v))), dims), 'i');
    this.constCache.set(key, out);
    return out;
  }

  private constant(tensor: ModelObject, hint: string): Val {
    const name = this.fresh(hint);
    this.nodes.push(node('Constant', [], [name], { value: { tensor } }));
    return name;
  }

  // ---- arithmetic ------------------------------------------------------------------------
  add(a: Val, b: Val): Val { return this.op1('Add', [a, b]); }
  sub(a: Val, b: Val): Val { return this.op1('Sub', [a, b]); }
  mul(a: Val, b: Val): Val { return this.op1('Mul', [a, b]); }
  div(a: Val, b: Val): Val { return this.op1('Div', [a, b]); }
  neg(a: Val): Val { return this.op1('Neg', [a]); }
  sqrt(a: Val): Val { return this.op1('Sqrt', [a]); }
  exp(a: Val): Val { return this.op1('Exp', [a]); }
  abs(a: Val): Val { return this.op1('Abs', [a]); }
  relu(a: Val): Val { return this.op1('Relu', [a]); }
  square(a: Val): Val { return this.op1('Mul', [a, a]); }
  min(a: Val, b: Val): Val { return this.op1('Min', [a, b]); }
  max(a: Val, b: Val): Val { return this.op1('Max', [a, b]); }
  /** a * s for a scalar number s. */
  scale(a: Val, s: number): Val { return s === 1 ? a : this.mul(a, this.scalar(s)); }

  matmul(a: Val, b: Val): Val { return this.op1('MatMul', [a, b]); }
  /** Gemm: alpha * op(a) @ op(b) (+ beta * c); a and b are 2-D. */
  gemm(a: Val, b: Val, opts: { transA?: boolean; transB?: boolean; alpha?: number; c?: Val } = {}): Val {
    const attrs: Record<string, AttrValue> = {};
    if (opts.transA) attrs.transA = 1;
    if (opts.transB) attrs.transB = 1;
    if (opts.alpha !== undefined && opts.alpha !== 1) attrs.alpha = { float: opts.alpha };
    return this.op1('Gemm', opts.c ? [a, b, opts.c] : [a, b], attrs);
  }

  // ---- comparisons and casts ------------------------------------------------------------
  greater(a: Val, b: Val): Val { return this.op1('Greater', [a, b]); }
  less(a: Val, b: Val): Val { return this.op1('Less', [a, b]); }
  cast(a: Val, to: ElemType): Val { return this.op1('Cast', [a], { to: ELEM[to] }); }
  /** 1.0 where a > b, else 0.0, in the float type. */
  step(a: Val, b: Val): Val { return this.cast(this.greater(a, b), this.floatType); }
  where(cond: Val, a: Val, b: Val): Val { return this.op1('Where', [cond, a, b]); }

  // ---- reductions and shapes ------------------------------------------------------------
  reduceSum(a: Val, axes: number[] | null, keepdims = false): Val {
    const inputs = axes === null ? [a] : [a, this.ints(axes)];
    return this.op1('ReduceSum', inputs, { keepdims: keepdims ? 1 : 0 });
  }
  reduceMax(a: Val, axes: number[], keepdims = false): Val {
    return this.op1('ReduceMax', [a, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  reduceMin(a: Val, axes: number[], keepdims = false): Val {
    return this.op1('ReduceMin', [a, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  /** Sum of squares of all elements (a scalar). */
  sumSquares(a: Val): Val { return this.op1('ReduceSumSquare', [a], { keepdims: 0 }); }
  reshape(a: Val, shape: number[]): Val { return this.op1('Reshape', [a, this.ints(shape)]); }
  reshapeTo(a: Val, shape: Val): Val { return this.op1('Reshape', [a, shape]); }
  transpose(a: Val, perm?: number[]): Val { return this.op1('Transpose', [a], perm ? { perm } : {}); }
  unsqueeze(a: Val, axes: number[]): Val { return this.op1('Unsqueeze', [a, this.ints(axes)]); }
  squeeze(a: Val, axes: number[]): Val { return this.op1('Squeeze', [a, this.ints(axes)]); }
  shape(a: Val): Val { return this.op1('Shape', [a]); }
  concat(values: Val[], axis: number): Val { return this.op1('Concat', values, { axis }); }
  slice(a: Val, starts: number[], ends: number[], axes: number[]): Val {
    return this.op1('Slice', [a, this.ints(starts), this.ints(ends), this.ints(axes)]);
  }
  /** Pads with zeros: `pads` = [begin per axis..., end per axis...]. */
  pad(a: Val, pads: number[]): Val { return this.op1('Pad', [a, this.ints(pads)]); }
  gather(a: Val, indices: Val, axis = 0): Val { return this.op1('Gather', [a, indices], { axis }); }
  gatherElements(a: Val, indices: Val, axis: number): Val { return this.op1('GatherElements', [a, indices], { axis }); }
  /** Returns [values, indices] of the k largest along `axis` (k an int64 [1] value). */
  topk(a: Val, k: Val, axis = -1): [Val, Val] {
    const [values, indices] = this.op('TopK', [a, k], { axis, largest: 1, sorted: 0 }, 2);
    return [values, indices];
  }
  scatterElements(data: Val, indices: Val, updates: Val, axis: number, reduction?: 'add'): Val {
    return this.op1('ScatterElements', [data, indices, updates], reduction ? { axis, reduction } : { axis });
  }
  scatterND(data: Val, indices: Val, updates: Val, reduction?: 'add'): Val {
    return this.op1('ScatterND', [data, indices, updates], reduction ? { reduction } : {});
  }
  /** Zeros of a runtime shape (int64 [rank] value), in the float type. */
  zeros(shape: Val): Val {
    const zero = constTensor(undefined, this.floatType === 'float64' ? new Float64Array(1) : new Float32Array(1), [1]);
    return this.op1('ConstantOfShape', [shape], { value: { tensor: zero } });
  }
  identity(a: Val): Val { return this.op1('Identity', [a]); }

  /**
   * ONNX Loop: `body(g, iter, carried)` returns the next carried values and per-iteration scan
   * outputs. Returns [final carried..., stacked scans...].
   */
  loop(
    trip: Val,
    carried: { value: Val; elem?: ElemType }[],
    body: (g: GraphBuilder, iter: Val, carried: Val[]) => { carried: Val[]; scans: { value: Val; elem?: ElemType }[] },
  ): Val[] {
    const g = this.subgraph();
    const iter = g.input(this.fresh('iter'), [], 'int64');
    const cond = g.input(this.fresh('cond_in'), [], 'bool');
    const ins = carried.map((c) => g.input(this.fresh('carry_in'), [], c.elem ?? this.floatType));
    clearShapes(g.inputs, 2);
    const out = body(g, iter, ins);
    g.output(this.fresh('cond_out'), g.identity(cond), 'bool', []);
    out.carried.forEach((v, i) => g.outputInPlace(v, 'carry_out', carried[i].elem ?? this.floatType));
    out.scans.forEach((s) => g.outputInPlace(s.value, 'scan_out', s.elem ?? this.floatType));
    const graph = g.toGraph('loop_body');
    return this.op('Loop', [trip, '', ...carried.map((c) => c.value)], { body: { graph } }, carried.length + out.scans.length);
  }

  /**
   * ONNX If: both branches return values of the same element types (`elems`); outer values
   * are visible inside. Returns the chosen branch's outputs.
   */
  ifElse(cond: Val, elems: ElemType[], thenBranch: (g: GraphBuilder) => Val[], elseBranch: (g: GraphBuilder) => Val[]): Val[] {
    const branch = (fn: (g: GraphBuilder) => Val[], label: string) => {
      const g = this.subgraph();
      fn(g).forEach((value, i) => g.outputInPlace(value, `${label}_out`, elems[i]));
      return g.toGraph(label);
    };
    const attrs = { then_branch: { graph: branch(thenBranch, 'then') }, else_branch: { graph: branch(elseBranch, 'else') } };
    return this.op('If', [cond], attrs, elems.length);
  }

  toGraph(name: string): ModelObject {
    return { name, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers };
  }

  /** Serialises a model with this builder as the main graph. */
  toModel(name = 'graph'): Uint8Array {
    return encodeModel(makeModel(this.toGraph(name)));
  }
}

