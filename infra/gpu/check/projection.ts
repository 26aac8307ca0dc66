/**
 * The paper preset's cost on one GPU, projected from the check's measurements (issue 14,
 * item 4): extraction of the train and eval tokens through the prefix (Gemma-2-2B, layer 12),
 * six SAE trainings of `tokens.train` tokens each, and the core evaluation's splice (each
 * variant's reconstruction through the suffix, blocks L+1.. and the LM head, over the eval
 * tokens). Blocks past L cost what blocks up to L cost per FLOP, so the suffix time is the
 * measured prefix time scaled by the FLOP ratio (transformer FLOPs per token from the shape:
 * 2 x weights of the matrix products plus attention's 4 x T x heads x head_dim).
 * Not projected: absorption, sparse probing and temporal evaluations (prompt sets whose model
 * passes all variants share through the residual cache), and set-up (model export, sessions).
 */
import { PRESETS } from '../../../schemas/presets.js';

export interface ModelShape {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
}

/** Multiply-add FLOPs per token of one decoder block at context `context` (gated MLP). */
export function blockFlopsPerToken(m: ModelShape, context: number): number {
  const q = m.hiddenSize * m.numHeads * m.headDim;
  const kv = 2 * m.hiddenSize * m.numKvHeads * m.headDim;
  const o = m.numHeads * m.headDim * m.hiddenSize;
  const mlp = 3 * m.hiddenSize * m.intermediateSize;
  const attention = 2 * context * m.numHeads * m.headDim;
  return 2 * (q + kv + o + mlp + attention);
}

export interface ProjectionInput {
  shape: ModelShape;
  layer: number;
  context: number;
  /** Measured extraction rate of the prefix (tokens/s). */
  extractTokensPerSecond: number;
  /** Measured training rates (tokens/s) by variant; missing variants are derived (see trainRates). */
  trainTokensPerSecond: Partial<Record<string, number>>;
}

export interface ProjectionItem {
  what: string;
  seconds: number;
  basis: string;
}

/**
 * Rates for all six variants: batchtopk at topk's measured rate, gated at standard's scaled by
 * their matrix products per step (bench/train.ts flopsPerStep: 8 dense products to 5).
 */
export function trainRates(measured: Partial<Record<string, number>>): Record<string, { rate: number; basis: string }> {
  const out: Record<string, { rate: number; basis: string }> = {};
  for (const v of PRESETS.paper.sae.variants.map((x) => x.variant)) {
    if (measured[v] !== undefined) out[v] = { rate: measured[v]!, basis: 'measured' };
  }
  if (!out.batchtopk && measured.topk !== undefined) out.batchtopk = { rate: measured.topk, basis: "topk's measured rate" };
  if (!out.gated && measured.standard !== undefined) out.gated = { rate: (measured.standard * 5) / 8, basis: "standard's rate x 5/8 (8 dense products per step to 5)" };
  return out;
}

export function projectPaperCost(input: ProjectionInput): { items: ProjectionItem[]; totalSeconds: number; missing: string[] } {
  const paper = PRESETS.paper;
  const { train, eval: evalTokens } = paper.tokens;
  const block = blockFlopsPerToken(input.shape, input.context);
  const prefixFlops = (input.layer + 1) * block;
  const suffixFlops = (input.shape.numLayers - 1 - input.layer) * block + 2 * input.shape.hiddenSize * input.shape.vocabSize;
  const prefixSecondsPerToken = 1 / input.extractTokensPerSecond;
  const items: ProjectionItem[] = [
    { what: `extraction: ${train + evalTokens} tokens (train + eval) through blocks 0..${input.layer}`, seconds: (train + evalTokens) * prefixSecondsPerToken, basis: `measured ${Math.round(input.extractTokensPerSecond)} tokens/s` },
  ];
  const rates = trainRates(input.trainTokensPerSecond);
  const missing: string[] = [];
  for (const v of paper.sae.variants.map((x) => x.variant)) {
    const r = rates[v];
    if (!r) missing.push(v);
    else items.push({ what: `train ${v}: ${train} tokens`, seconds: train / r.rate, basis: `${r.basis}, ${Math.round(r.rate)} tokens/s` });
  }
  const splicePerVariant = evalTokens * prefixSecondsPerToken * (suffixFlops / prefixFlops);
  items.push({
    what: `core evaluation splice: ${paper.sae.variants.length} variants x ${evalTokens} tokens through blocks ${input.layer + 1}..${input.shape.numLayers - 1} + LM head`,
    seconds: paper.sae.variants.length * splicePerVariant,
    basis: `prefix time per token x FLOP ratio ${(suffixFlops / prefixFlops).toFixed(2)}`,
  });
  return { items, totalSeconds: items.reduce((s, i) => s + i.seconds, 0), missing };
}
