/** One benchmark measurement beside its reference, both measured in the same run. */
export interface BenchRecord {
  stage: string;
  case: string;
  metric: string;
  value: number;
  unit: string;
  /** What the value is compared with (a library or a ceiling), or null when nothing fits. */
  reference: string | null;
  referenceValue: number | null;
  /** ours / reference, oriented so that higher is better; null without a reference. */
  ratio: number | null;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The tokenize area's end-to-end case; run.ts compares it with 10x the extraction rate. */
export const TOKENIZE_END_TO_END = 'demo sample: tokenizeShard end to end';
