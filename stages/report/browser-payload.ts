/**
 * The feature-browser data as embedded in index.html: token strings interned in one table and
 * short keys, since contexts repeat the same tokens many times (this roughly halves the
 * embedded size). The browser script (browser-script.ts) reads exactly this shape.
 */
import type { FeatureBrowserVariant, VariantReport } from '../../schemas/report.js';
import { roundSig } from './format.js';

export interface BrowserLatent {
  /** id, density, mean activation, max activation */
  i: number;
  d: number;
  m: number;
  x: number;
  /** cluster id or null */
  c: number | null;
  /** selected by: f(requent), s(ample), r(equested) */
  s: 'f' | 's' | 'r';
  /** histogram: edges, counts */
  h: { e: number[]; n: number[] };
  /** logit effects up / down: [string index, value] */
  u: [number, number][];
  o: [number, number][];
  /** contexts: activating index in window, table row, token string indices, activations */
  k: { m: number; r: number; t: number[]; a: number[] }[];
}

export interface BrowserVariant {
  label: string;
  variant: string;
  dSae: number;
  tokensScanned: number;
  aliveLatents: number;
  latents: BrowserLatent[];
}

export interface BrowserPayload {
  strings: string[];
  variants: BrowserVariant[];
}

const SELECTED_CODE = { frequent: 'f', sample: 's', requested: 'r' } as const;

/** Packs the browser data of every variant that has it. */
export function packBrowserPayload(variants: VariantReport[]): BrowserPayload {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const packed = variants.filter((v): v is VariantReport & { features: FeatureBrowserVariant } => v.features !== null).map((v) => ({
    label: v.label,
    variant: v.variant,
    dSae: v.features.dSae,
    tokensScanned: v.features.tokensScanned,
    aliveLatents: v.features.aliveLatents,
    latents: v.features.latents.map(
      (l): BrowserLatent => ({
        i: l.id,
        d: roundSig(l.density, 4),
        m: roundSig(l.meanActivation, 4),
        x: roundSig(l.maxActivation, 4),
        c: l.cluster,
        s: SELECTED_CODE[l.selectedBy],
        h: { e: l.histogram.edges.map((e) => roundSig(e, 4)), n: l.histogram.counts },
        u: l.logitsUp.map((t) => [intern(t.token), roundSig(t.value, 4)]),
        o: l.logitsDown.map((t) => [intern(t.token), roundSig(t.value, 4)]),
        k: l.contexts.map((c) => ({ m: c.maxIndex, r: c.tokenIndex, t: c.tokens.map(intern), a: c.acts.map((a) => roundSig(a, 3)) })),
      }),
    ),
  }));
  return { strings, variants: packed };
}
