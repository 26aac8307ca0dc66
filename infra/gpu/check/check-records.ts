/**
 * Bench records (bench/record.ts BenchRecord, plus the GPU's name) from the GPU check's raw
 * results: every ratio oriented so that higher is better for us.
 */
import type { BenchRecord } from '../../../bench/record.js';
import type { MemoryPeak } from './gpu-memory.js';

export interface Measured {
  result: Record<string, unknown> | null;
  memory: MemoryPeak;
  error: string | null;
}

export interface CheckResults {
  device: 'cuda' | 'cpu';
  shape: string;
  gpu: { name: string; driver: string; memoryMiB: number } | null;
  node: string;
  setup: unknown;
  extract: ({ model: string; compute?: string; reference?: string } & Measured)[];
  parity: ({ model: string } & Measured)[];
  train: ({ variant: string; dIn: number; dSae: number; batch: number; stepsPerRun?: number; reference?: string } & Measured)[];
  errors: string[];
}

export type GpuRecord = BenchRecord & { gpu: string };

/** Peak MiB of a case: the process row when nvidia-smi listed it, else the device-wide delta. */
export function peakMiB(m: Measured): number | null {
  return m.memory.processMiB ?? m.memory.deviceDeltaMiB;
}

/** The training case whose memory is compared (gpu-check.ts TRAIN_STEPS_PER_RUN). */
const MEMORY_STEPS_PER_RUN = 64;

const TOLERANCE: Record<string, number> = { float32: 1e-4, float16: 1e-2, bfloat16: 2e-2 };

export function buildRecords(results: CheckResults, gpu: string): GpuRecord[] {
  const out: GpuRecord[] = [];
  const push = (stage: string, name: string, metric: string, value: number | null | undefined, unit: string, reference: string | null, referenceValue: number | null | undefined, higherIsBetter = true) => {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    const ref = referenceValue ?? null;
    const ratio = ref === null || !Number.isFinite(ref) || ref === 0 ? null : higherIsBetter ? value / ref : ref / value;
    out.push({ stage, case: `${name} on ${gpu}`, metric, value, unit, reference, referenceValue: ref, ratio, gpu });
  };
  const num = (m: Measured | undefined, key: string) => (m?.result?.[key] as number | undefined) ?? null;
  for (const model of [...new Set(results.extract.map((e) => e.model))]) {
    const ours = (compute: string) => results.extract.find((e) => e.model === model && e.compute === compute);
    const torch = (reference: string) => results.extract.find((e) => e.model === model && e.reference === reference);
    const hf = (reference: string) => `HF transformers ${reference} (torch ${String(torch(reference)?.result?.torch ?? '?')})`;
    const torchFp = results.device === 'cpu' ? 'float32' : 'float16';
    const pairs: [string, string | null][] = [['float16', `full-${torchFp}`], ['float16', `truncated-${torchFp}`], ['bfloat16', 'truncated-bfloat16'], ['float32', results.device === 'cpu' ? 'truncated-float32' : null]];
    for (const [compute, reference] of pairs) {
      const o = ours(compute);
      if (!o) continue;
      const r = reference ? torch(reference) : undefined;
      push('extract', `${model} ${compute} MatMuls, extract stage`, 'tokens_per_s', num(o, 'stageTokensPerSecond'), 'tokens/s', r ? hf(reference!) : null, num(r, 'tokensPerSecond'));
      if (reference === `truncated-${torchFp}`) {
        push('extract', `${model} ${compute} MatMuls, prefix runner only`, 'tokens_per_s', num(o, 'runnerTokensPerSecond'), 'tokens/s', hf(reference), num(r, 'tokensPerSecond'));
      }
    }
    const o16 = ours('float16');
    const full = torch(`full-${torchFp}`);
    if (o16 && full) push('extract', `${model} float16 MatMuls`, 'peak_gpu_memory', peakMiB(o16), 'MiB', hf(`full-${torchFp}`), peakMiB(full), false);
  }
  for (const p of results.parity) {
    for (const compute of ['float32', 'float16', 'bfloat16']) {
      const e = p.result?.[compute] as { rel: number; nonFinite: number } | undefined;
      if (!e) continue;
      push('extract', `${p.model} ${compute} residuals vs CPU float32${compute === 'float32' ? ' (TF32 off)' : ''}${e.nonFinite ? `, ${e.nonFinite} non-finite` : ''}`, 'rel_error', e.rel, 'relative', 'tolerance', TOLERANCE[compute], false);
    }
  }
  for (const variant of [...new Set(results.train.map((t) => t.variant))]) {
    const torch = results.train.find((t) => t.variant === variant && t.reference === 'pytorch');
    const reference = torch ? `PyTorch ${String(torch.result?.torch ?? '?')} trainer (TF32)` : null;
    for (const o of results.train.filter((t) => t.variant === variant && !t.reference)) {
      const name = `${variant} d_in ${o.dIn} x ${o.dSae} latents, batch ${o.batch}, ${o.stepsPerRun} steps per run`;
      push('train', name, 'tokens_per_s', num(o, 'tokensPerSecond'), 'tokens/s', reference, num(torch, 'tokensPerSecond'));
      if (o.stepsPerRun === MEMORY_STEPS_PER_RUN && torch) push('train', name, 'peak_gpu_memory', peakMiB(o), 'MiB', reference, peakMiB(torch), false);
    }
  }
  return out;
}
