/**
 * Small, exact-up-to-rounding rewrites of exported graphs that let ONNX Runtime's own fusions
 * fire. torch.export lowers RMSNorm's `x * rsqrt(mean(x^2) + eps)` to
 * Pow -> ReduceMean -> Add -> Sqrt -> Reciprocal -> Mul, while ORT's SimplifiedLayerNormalization
 * fusion looks for ... -> Sqrt -> Div(x, sqrt). Rewriting Reciprocal + Mul into one Div makes the
 * fusion match (x / s instead of x * (1 / s): one rounding less, parity tests unchanged).
 */
import type { ModelObject } from '../../lib/onnx/onnx-proto.js';
import { node } from '../../lib/onnx/graph-proto.js';

/** Which node produces each tensor, and which nodes read it. */
function nodeIndex(nodes: any[]): { producer: Map<string, any>; consumers: Map<string, any[]> } {
  const producer = new Map<string, any>();
  const consumers = new Map<string, any[]>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  return { producer, consumers };
}

/** `nodes` without `drop`, with each node in `replace` swapped for its replacement. */
function rewritten(nodes: any[], drop: Set<any>, replace: Map<any, any>): any[] {
  return nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n);
}

/** Returns a copy of `model` with every Sqrt -> Reciprocal -> Mul chain turned into Sqrt -> Div. */
export function rewriteReciprocalMul(model: ModelObject): ModelObject {
  const nodes: any[] = model.graph.node ?? [];
  const { producer, consumers } = nodeIndex(nodes);
  const graphOutputs = new Set((model.graph.output ?? []).map((o: any) => o.name));
  const drop = new Set<any>();
  const replace = new Map<any, any>();
  for (const r of nodes) {
    if (r.op_type !== 'Reciprocal') continue;
    const sqrtOut = r.input[0];
    if (producer.get(sqrtOut)?.op_type !== 'Sqrt' || graphOutputs.has(r.output[0])) continue;
    const users = consumers.get(r.output[0]) ?? [];
    if (users.length !== 1 || users[0].op_type !== 'Mul' || replace.has(users[0])) continue;
    const mul = users[0];
    const other = mul.input[0] === r.output[0] ? mul.input[1] : mul.input[0];
    if (mul.input[0] === mul.input[1]) continue;
    drop.add(r);
    replace.set(mul, { ...mul, op_type: 'Div', input: [other, sqrtOut], attribute: [] });
  }
  if (drop.size === 0) return model;
  return {
    ...model,
    graph: { ...model.graph, node: rewritten(nodes, drop, replace) },
  };
}

const GELU_TANH_CONSTANTS = { cube: 3, coef: 0.044715, sqrt2OverPi: Math.sqrt(2 / Math.PI), one: 1, half: 0.5 };

/**
 * Replaces the tanh-approximate GELU that torch.export spells as eight element-wise nodes
 *   0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
 * by ONNX Runtime's FastGelu (com.microsoft), the same formula in one pass over [tokens, d_ff]
 * (Gemma's MLP activation; the element-wise chain was ~15% of prefix time). Every constant is
 * checked, so other functions that share the shape are left alone.
 */
export function rewriteTanhGelu(model: ModelObject): ModelObject {
  const nodes: any[] = model.graph.node ?? [];
  const { producer, consumers } = nodeIndex(nodes);
  const scalars = scalarInitializers(model);
  const isConst = (name: string, value: number) => Math.abs((scalars.get(name) ?? NaN) - value) < 1e-6 * Math.max(1, value);
  const only = (name: string) => (consumers.get(name)?.length === 1 ? consumers.get(name)![0] : null);
  const binary = (n: any, op: string, value: number): string | null => {
    if (n?.op_type !== op) return null;
    if (isConst(n.input[0], value)) return n.input[1];
    if (isConst(n.input[1], value)) return n.input[0];
    return null;
  };
  const drop = new Set<any>();
  const replace = new Map<any, any>();
  for (const tanh of nodes) {
    if (tanh.op_type !== 'Tanh') continue;
    const scaled = producer.get(tanh.input[0]);
    const inner = producer.get(binary(scaled, 'Mul', GELU_TANH_CONSTANTS.sqrt2OverPi) ?? '');
    if (inner?.op_type !== 'Add') continue;
    const chain = [0, 1].map((k) => ({ x: inner.input[k], cubic: producer.get(inner.input[1 - k]) }));
    const match = chain.find(({ x, cubic }) => {
      const pow = producer.get(binary(cubic, 'Mul', GELU_TANH_CONSTANTS.coef) ?? '');
      return pow?.op_type === 'Pow' && pow.input[0] === x && isConst(pow.input[1], GELU_TANH_CONSTANTS.cube);
    });
    const plusOne = only(tanh.output[0]);
    const halfMul = plusOne && binary(plusOne, 'Add', GELU_TANH_CONSTANTS.one) === tanh.output[0] ? only(plusOne.output[0]) : null;
    const finalMul = halfMul && binary(halfMul, 'Mul', GELU_TANH_CONSTANTS.half) === plusOne.output[0] ? only(halfMul.output[0]) : null;
    if (!match || !finalMul || finalMul.op_type !== 'Mul' || !finalMul.input.includes(match.x) || !finalMul.input.includes(halfMul.output[0])) continue;
    const pow = producer.get(binary(match.cubic, 'Mul', GELU_TANH_CONSTANTS.coef)!);
    const internal = [pow, match.cubic, inner, scaled, tanh, plusOne, halfMul];
    if (internal.some((n) => !n) || internal.slice(0, -1).some((n) => (consumers.get(n.output[0])?.length ?? 0) !== 1)) continue;
    internal.forEach((n) => drop.add(n));
    replace.set(finalMul, node('FastGelu', [match.x], finalMul.output, {}, { name: `tsae_fast_gelu_${finalMul.output[0]}`, domain: 'com.microsoft' }));
  }
  if (replace.size === 0) return model;
  const opsets = model.opset_import ?? [];
  return {
    ...model,
    opset_import: opsets.some((o: any) => o.domain === 'com.microsoft') ? opsets : [...opsets, { domain: 'com.microsoft', version: 1 }],
    graph: { ...model.graph, node: rewritten(nodes, drop, replace) },
  };
}

/** Float32 scalar initializers held inline (exports keep small constants inside the graph). */
function scalarInitializers(model: ModelObject): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of model.graph.initializer ?? []) {
    const count = (t.dims ?? []).reduce((a: number, b: number) => a * b, 1);
    if (count !== 1 || t.data_location === 1) continue;
    if (t.data_type === 1) {
      if (t.raw_data?.length === 4) out.set(t.name, Buffer.from(t.raw_data).readFloatLE(0));
      else if (t.float_data?.length === 1) out.set(t.name, t.float_data[0]);
    }
  }
  return out;
}

/** The rewrites applied to every derived graph. */
export function optimizeForRuntime(model: ModelObject): ModelObject {
  return rewriteTanhGelu(rewriteReciprocalMul(model));
}
