/**
 * `tsae gpu setup`: makes onnxruntime-node's CUDA execution provider usable, offline after the
 * first run. Steps, each skipped when already done (so it is idempotent):
 *  1. the driver: libcuda.so.1 must exist, else stop before changing anything (exit 1);
 *  2. the provider: onnxruntime-gpu==<onnxruntime-node's version> from PyPI (cached in
 *     .tools/gpu-cache), its two provider libraries extracted next to libonnxruntime.so.1;
 *  3. the CUDA 13 runtime libraries the provider links (read from its DT_NEEDED), from the
 *     system, a Python environment (PyTorch's nvidia wheels) or the pinned PyPI wheels;
 *  4. tsae-cuda.json (what tsae preloads before a CUDA session) and tsae-cuda.env
 *     (LD_LIBRARY_PATH for other programs) next to the provider;
 *  5. the check: a child process creates a CUDA session and runs a MatMul; its failure names
 *     what is missing (driver, device, version, cuBLAS, cuDNN, provider).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File, writeFileAtomic, writeJsonAtomic } from '../../../lib/core/atomic-fs.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { projectPath } from '../../../lib/core/package-root.js';
import {
  classifyCudaFailure,
  CUDA_ENV_FILE,
  CUDA_MANIFEST_FILE,
  CUDA_PROVIDER_FILE,
  DRIVER_SONAME,
  findCudaDriver,
  readCudaManifest,
  SHARED_PROVIDER_FILE,
  type CudaFailureKind,
  type CudaManifest,
} from '../../../lib/onnx/cuda-libs.js';
import { installPypiCudaLibraries, resolveCudaLibraries, type CudaLibsMode } from './cuda-sources.js';
import { readDynamic } from './elf.js';
import { extractWheelMembers, fetchProviderWheel, ortNodePackage, WHEEL_MEMBERS } from './provider-wheel.js';

export interface GpuSetupOptions {
  /** onnxruntime-node folder to install into (default: the one this project resolves). */
  ortDir?: string;
  cudaLibs?: CudaLibsMode;
  /** Wheel cache (default .tools/gpu-cache). */
  cacheDir?: string;
  /** Python whose pip downloads the wheel (default the project venv's). */
  pipPython?: string;
  /** Python whose site-packages the `python` source reads (default python3). */
  python?: string;
  /** Stage the files without a driver and without the check (for images built on CPU machines). */
  prepareOnly?: boolean;
  /**
   * A folder already holding libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
   * (taken from the wheel elsewhere): no pip, for machines without network (the GPU check).
   */
  providerDir?: string;
  log?: (message: string) => void;
}

export interface GpuSetupResult {
  onnxruntime: string;
  binDir: string;
  wheel: { file: string; downloaded: boolean };
  provider: { changed: boolean; sha256: string; bytes: number; needed: string[] };
  runtime: CudaManifest['runtime'];
  envFile: string;
  driver: string | null;
  verified: CudaManifest['verified'];
}

/** A set-up failure: `kind` names what is missing; the CLI exits with 1. */
export class GpuSetupError extends TsaeError {
  constructor(
    readonly kind: CudaFailureKind | 'platform' | 'libraries',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super('DEVICE_UNAVAILABLE', message, { details: { kind, ...details } });
  }
}

/** Sonames of the CUDA libraries the provider links, dependencies first (cuBLASLt before cuBLAS). */
export function requiredCudaLibraries(needed: readonly string[]): string[] {
  const order = ['libcudart', 'libcublasLt', 'libcublas', 'libcurand', 'libcufft', 'libnvrtc', 'libcudnn'];
  const cuda = needed.filter((n) => /^lib(cu|nv)/.test(n) && n !== DRIVER_SONAME);
  const rank = (n: string) => {
    const i = order.findIndex((p) => n.startsWith(`${p}.so`));
    return i < 0 ? order.length : i;
  };
  return [...cuda].sort((a, b) => rank(a) - rank(b));
}

/** Libraries the provider opens lazily (cuDNN, cuFFT, NVRTC) for a CUDA major version. */
export function optionalCudaLibraries(cudaMajor: number): string[] {
  // CUDA 13 ships cuFFT 12 and nvJitLink 13 (cuFFT links it); cuDNN 9 serves CUDA 12 and 13.
  return [`libnvJitLink.so.${cudaMajor}`, `libcufft.so.${cudaMajor - 1}`, `libnvrtc.so.${cudaMajor}`, 'libcudnn.so.9'];
}

function projectPython(): string {
  const venv = projectPath('.tools', 'venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

export async function runGpuSetup(options: GpuSetupOptions = {}): Promise<GpuSetupResult> {
  const log = options.log ?? (() => {});
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new GpuSetupError('platform', `tsae gpu setup supports linux-x64 only (this is ${process.platform}-${process.arch}); nothing was changed`);
  }
  const ort = ortNodePackage(options.ortDir);
  const driver = findCudaDriver();
  if (!driver && !options.prepareOnly) {
    throw new GpuSetupError(
      'driver',
      `No NVIDIA driver on this machine: ${DRIVER_SONAME} is not in the linker cache (ldconfig -p), LD_LIBRARY_PATH or /usr/lib/x86_64-linux-gnu, /usr/local/nvidia/lib64. ` +
        'CUDA needs an NVIDIA GPU with driver >= 580 (CUDA 13). Nothing was changed; tsae keeps running on CPU. ' +
        '(--prepare-only stages the files anyway, e.g. for an image built on a machine without a GPU.)',
    );
  }
  const pip = options.pipPython ?? projectPython();
  const wheel = options.providerDir
    ? { wheel: `local:${options.providerDir}`, downloaded: false }
    : fetchProviderWheel(pip, ort.version, options.cacheDir ?? projectPath('.tools', 'gpu-cache', 'wheels'), log);
  const provider = options.providerDir ? await copyProvider(ort.binDir, options.providerDir, log) : await installProvider(ort.binDir, pip, wheel.wheel, log);
  const needed = readDynamic(readFileSync(join(ort.binDir, CUDA_PROVIDER_FILE)), CUDA_PROVIDER_FILE).needed;
  const required = requiredCudaLibraries(needed);
  const cudart = required.find((n) => n.startsWith('libcudart.so.'));
  const cudaMajor = Number(cudart?.split('.so.')[1] ?? NaN);
  if (!Number.isInteger(cudaMajor)) throw new GpuSetupError('provider', `${CUDA_PROVIDER_FILE} links no libcudart.so.N (DT_NEEDED: ${needed.join(', ')})`);
  let runtime;
  try {
    runtime = await resolveCudaLibraries(options.cudaLibs ?? 'auto', { required, optional: optionalCudaLibraries(cudaMajor), python: options.python, installPypi: installPypiCudaLibraries, log });
  } catch (error) {
    throw new GpuSetupError('libraries', `CUDA ${cudaMajor} runtime libraries: ${(error as Error).message}. Use --cuda-libs pypi to install the pinned PyPI wheels, or --cuda-libs <dir>.`);
  }
  log(`CUDA ${cudaMajor} runtime libraries from ${runtime.source}: ${runtime.detail}`);
  const manifest: CudaManifest = {
    format: 1,
    onnxruntime: ort.version,
    provider: { wheel: wheel.wheel.split('/').pop()!, sha256: provider.sha256, bytes: provider.bytes, cudaMajor, needed },
    runtime,
    verified: null,
  };
  await writeJsonAtomic(join(ort.binDir, CUDA_MANIFEST_FILE), manifest);
  const envFile = join(ort.binDir, CUDA_ENV_FILE);
  await writeFileAtomic(envFile, envFileText(manifest));
  if (!options.prepareOnly) {
    manifest.verified = verifyCuda(ort.dir);
    await writeJsonAtomic(join(ort.binDir, CUDA_MANIFEST_FILE), manifest);
    if (!manifest.verified.ok) {
      const { kind, hint } = classifyCudaFailure(manifest.verified.detail);
      throw new GpuSetupError(kind, `The CUDA check failed: ${hint}. (${manifest.verified.detail})`, { verified: manifest.verified });
    }
  }
  return { onnxruntime: ort.version, binDir: ort.binDir, wheel: { file: wheel.wheel, downloaded: wheel.downloaded }, provider: { ...provider, needed }, runtime, envFile, driver, verified: manifest.verified };
}

/** Extracts the provider unless the installed one is the same file (same sha256 as recorded). */
async function installProvider(binDir: string, python: string, wheel: string, log: (m: string) => void) {
  const previous = readCudaManifest(binDir);
  const installed = join(binDir, CUDA_PROVIDER_FILE);
  if (previous && previous.provider.wheel === wheel.split('/').pop() && existsSync(installed) && existsSync(join(binDir, SHARED_PROVIDER_FILE))) {
    const sha256 = await sha256File(installed);
    if (sha256 === previous.provider.sha256) return { changed: false, sha256, bytes: previous.provider.bytes };
  }
  log(`extracting the CUDA provider into ${binDir}`);
  const files = extractWheelMembers(python, wheel, WHEEL_MEMBERS, binDir);
  return { changed: true, ...files[CUDA_PROVIDER_FILE] };
}

/** Copies the two provider libraries from a folder unless the installed ones are identical. */
async function copyProvider(binDir: string, from: string, log: (m: string) => void) {
  const sha256 = await sha256File(join(from, CUDA_PROVIDER_FILE));
  const installed = join(binDir, CUDA_PROVIDER_FILE);
  const same = existsSync(installed) && existsSync(join(binDir, SHARED_PROVIDER_FILE)) && (await sha256File(installed)) === sha256;
  if (!same) {
    log(`copying the CUDA provider from ${from} into ${binDir}`);
    for (const file of [SHARED_PROVIDER_FILE, CUDA_PROVIDER_FILE]) {
      await copyFile(join(from, file), join(binDir, `.${file}.tsae-tmp`));
      await rename(join(binDir, `.${file}.tsae-tmp`), join(binDir, file));
    }
  }
  return { changed: !same, sha256, bytes: statSync(join(from, CUDA_PROVIDER_FILE)).size };
}

function envFileText(manifest: CudaManifest): string {
  const dirs = [...new Set([...manifest.runtime.libraries, ...manifest.runtime.optional].map((l) => l.path.slice(0, l.path.lastIndexOf('/'))))];
  return [
    `# Written by \`tsae gpu setup\`: where the CUDA ${manifest.provider.cudaMajor} runtime libraries for onnxruntime's CUDA provider are (${manifest.runtime.source}).`,
    '# tsae loads them itself (tsae-cuda.json); source this file to run other programs against the same libraries.',
    `export LD_LIBRARY_PATH="${dirs.join(':')}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"`,
    '',
  ].join('\n');
}

/** Runs probe.js in a child process; `detail` carries its error and onnxruntime's stderr line. */
export function verifyCuda(ortDir: string): NonNullable<CudaManifest['verified']> {
  const probe = fileURLToPath(new URL('./probe.js', import.meta.url));
  const child = spawnSync(process.execPath, [probe, ortDir], { encoding: 'utf8', timeout: 300_000 });
  const last = (child.stdout ?? '').trim().split('\n').pop() ?? '';
  let result: { ok?: boolean; error?: string } = {};
  try {
    result = JSON.parse(last);
  } catch {
    result = { ok: false, error: `probe exited with ${child.status ?? child.signal}` };
  }
  // onnxruntime logs the loader's reason ("libcuda.so.1: cannot open shared object file") on stderr.
  const stderr = (child.stderr ?? '').replace(/\u001b\[[0-9;]*m/g, '').trim().split('\n').filter(Boolean).slice(-2).join(' ');
  const detail = result.ok ? JSON.stringify(result) : [result.error, stderr].filter(Boolean).join(' | ');
  return { ok: Boolean(result.ok), at: new Date().toISOString(), detail };
}
