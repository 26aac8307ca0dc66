/**
 * Inference graph of a trained SAE in SAELens semantics: x [N, d_in] -> latents [N, d_sae],
 * reconstruction [N, d_in]. Weights are either graph inputs (fed zero-copy by sae-runtime.ts, no
 * 2 GB protobuf limit) or initializers (the exported sae.onnx, which runs alone in onnxruntime
 * for Python and the web).
 */
import { GraphBuilder, type Val } from '../../lib/onnx/graph-builder.js';

export const SAE_ARCHITECTURES = ['standard', 'topk', 'jumprelu', 'gated'] as const;
export type SaeArchitecture = (typeof SAE_ARCHITECTURES)[number];

/** Weight names and shapes per SAELens architecture. */
export function architectureWeights(arch: SaeArchitecture, dIn: number, dSae: number): { name: string; shape: number[] }[] {
  const dec = [
    { name: 'W_dec', shape: [dSae, dIn] },
    { name: 'b_dec', shape: [dIn] },
  ];
  if (arch === 'gated') {
    return [{ name: 'W_enc', shape: [dIn, dSae] }, { name: 'b_gate', shape: [dSae] }, { name: 'r_mag', shape: [dSae] }, { name: 'b_mag', shape: [dSae] }, ...dec];
  }
  const base = [{ name: 'W_enc', shape: [dIn, dSae] }, { name: 'b_enc', shape: [dSae] }, ...dec];
  return arch === 'jumprelu' ? [...base, { name: 'threshold', shape: [dSae] }] : base;
}

export interface ForwardGraphOptions {
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  /** topk only. */
  k?: number;
  /** Weights baked in as initializers; when absent they are inputs named like the weights. */
  weights?: Record<string, Float32Array>;
  /** Stores initializers in this external file (name relative to the model) instead of inline. */
  externalData?: { location: string; offsets: Record<string, number> };
}

export function buildForwardGraph(opts: ForwardGraphOptions): Uint8Array {
  const { architecture: arch, dIn, dSae } = opts;
  const g = new GraphBuilder('float32');
  const x = g.input('x', ['N', dIn]);
  const w: Record<string, Val> = {};
  for (const spec of architectureWeights(arch, dIn, dSae)) {
    if (!opts.weights) w[spec.name] = g.input(spec.name, spec.shape);
    else if (opts.externalData) w[spec.name] = g.externalInitializer(spec.name, spec.shape, opts.externalData.location, opts.externalData.offsets[spec.name], opts.weights[spec.name].byteLength);
    else w[spec.name] = g.initializer(spec.name, spec.shape, opts.weights[spec.name]);
  }
  const xc = g.sub(x, w.b_dec);
  let latents: Val;
  if (arch === 'gated') {
    const gate = g.step(g.gemm(xc, w.W_enc, { c: w.b_gate }), g.scalar(0));
    const magnitude = g.relu(g.gemm(xc, g.mul(w.W_enc, g.exp(w.r_mag)), { c: w.b_mag }));
    latents = g.mul(gate, magnitude);
  } else {
    const pre = g.gemm(xc, w.W_enc, { c: w.b_enc });
    if (arch === 'standard') latents = g.relu(pre);
    else if (arch === 'jumprelu') latents = g.mul(g.relu(pre), g.step(pre, w.threshold));
    else {
      const [vals, idx] = g.topk(pre, g.ints([opts.k ?? 1]), 1);
      latents = g.scatterElements(g.zeros(g.shape(pre)), idx, g.relu(vals), 1);
    }
  }
  g.output('latents', latents, 'float32', ['N', dSae]);
  g.output('reconstruction', g.gemm(latents, w.W_dec, { c: w.b_dec }), 'float32', ['N', dIn]);
  return g.toModel('sae_forward');
}
