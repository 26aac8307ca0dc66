/**
 * Peak GPU memory of a child process, sampled with nvidia-smi while it runs (onnxruntime-node
 * exposes no allocator statistics, and PyTorch's max_memory_reserved misses the CUDA context
 * and cuBLAS workspaces, so both sides are measured the same way here):
 *  - per process: `--query-compute-apps=pid,used_memory` rows whose pid is the child's;
 *  - device-wide: `--query-gpu=memory.used` minus its value before the child started (for
 *    containers whose PID namespace hides the pids from nvidia-smi).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function smi(args: string[]): Promise<string | null> {
  try {
    return (await run('nvidia-smi', args, { timeout: 5000 })).stdout;
  } catch {
    return null;
  }
}

/** Parses `pid, used_memory` rows (MiB) into pid -> MiB. */
export function parseComputeApps(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const [pid, used] = line.split(',').map((s) => Number(s.trim()));
    if (Number.isFinite(pid) && Number.isFinite(used)) out.set(pid, (out.get(pid) ?? 0) + used);
  }
  return out;
}

export async function deviceMemoryUsedMiB(): Promise<number | null> {
  const text = await smi(['--query-gpu=memory.used', '--format=csv,noheader,nounits']);
  const value = text ? Number(text.split('\n')[0].trim()) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** GPU name, driver and memory, or null without nvidia-smi. */
export async function gpuFacts(): Promise<{ name: string; driver: string; memoryMiB: number } | null> {
  const text = await smi(['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits']);
  if (!text) return null;
  const [name, driver, memory] = text.split('\n')[0].split(',').map((s) => s.trim());
  return { name, driver, memoryMiB: Number(memory) };
}

export interface MemoryPeak {
  /** Peak of the child's own row in nvidia-smi's process list, MiB (null if never listed). */
  processMiB: number | null;
  /** Peak device-wide usage minus the usage before the child started, MiB. */
  deviceDeltaMiB: number | null;
}

/** Samples every `intervalMs` until `stop()`; returns the peaks seen for `pid`. */
export async function sampleGpuMemory(pid: () => number | undefined, intervalMs = 200): Promise<{ stop(): Promise<MemoryPeak> }> {
  const baseline = await deviceMemoryUsedMiB();
  let processPeak: number | null = null;
  let devicePeak: number | null = null;
  let running = true;
  const loop = (async () => {
    while (running) {
      const [apps, used] = await Promise.all([smi(['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits']), deviceMemoryUsedMiB()]);
      const own = apps && pid() !== undefined ? parseComputeApps(apps).get(pid()!) : undefined;
      if (own !== undefined) processPeak = Math.max(processPeak ?? 0, own);
      if (used !== null) devicePeak = Math.max(devicePeak ?? 0, used);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { processMiB: processPeak, deviceDeltaMiB: devicePeak !== null && baseline !== null ? devicePeak - baseline : null };
    },
  };
}
