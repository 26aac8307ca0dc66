/**
 * Where the CUDA execution provider's native pieces are, and how a Node process makes them
 * loadable without LD_LIBRARY_PATH.
 *
 * `tsae gpu setup` puts onnxruntime's CUDA provider (`libonnxruntime_providers_cuda.so`, from the
 * PyPI wheel `onnxruntime-gpu` of our onnxruntime-node's version) next to `libonnxruntime.so.1`,
 * where onnxruntime looks for it (provider_bridge_ort.cc, ProviderLibrary::Get: the runtime's own
 * folder + the file name), and writes `tsae-cuda.json` there: the absolute paths of the CUDA
 * runtime libraries the provider needs (libcudart, libcublasLt, libcublas, libcurand; cuDNN and
 * friends optional).
 *
 * The provider has no RUNPATH, so the dynamic linker would search LD_LIBRARY_PATH, which glibc
 * reads once at process start. Instead we load each library by absolute path before the first
 * CUDA session: a library already loaded satisfies a later DT_NEEDED or dlopen of its soname.
 * This is what onnxruntime's own Python package does (`onnxruntime.preload_dlls`, which
 * ctypes-loads nvidia/cu13/lib/libcublasLt.so.13 ... libcudnn.so.9 by path). Node has no plain
 * dlopen; `process.dlopen` with RTLD_NODELETE loads the library, then throws "did not
 * self-register" for a non-addon, and NODELETE keeps it mapped after Node's dlclose.
 *
 * No onnxruntime import here, so the setup command and its probe can use it too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';

export const CUDA_MANIFEST_FILE = 'tsae-cuda.json';
export const CUDA_ENV_FILE = 'tsae-cuda.env';
export const CUDA_PROVIDER_FILE = 'libonnxruntime_providers_cuda.so';
export const SHARED_PROVIDER_FILE = 'libonnxruntime_providers_shared.so';
export const DRIVER_SONAME = 'libcuda.so.1';

/** glibc's RTLD_NODELETE (not exported by os.constants.dlopen). */
const RTLD_NODELETE = 0x1000;

export interface CudaLibrary {
  soname: string;
  /** Absolute path the library is loaded from. */
  path: string;
}

/** What `tsae gpu setup` installed and found (tsae-cuda.json next to libonnxruntime.so.1). */
export interface CudaManifest {
  format: 1;
  /** onnxruntime-node version the provider was taken for (must equal the wheel's). */
  onnxruntime: string;
  provider: { wheel: string; sha256: string; bytes: number; cudaMajor: number; needed: string[] };
  runtime: {
    /** Where the CUDA runtime libraries came from. */
    source: 'pypi' | 'python' | 'system' | 'dir';
    detail: string;
    /** Load order: dependencies first (cublasLt before cublas). */
    libraries: CudaLibrary[];
    /** Loaded lazily by the provider when present (cuDNN, cuFFT, NVRTC). */
    optional: CudaLibrary[];
  };
  /** The last check by creating a CUDA session: null when setup ran with --prepare-only. */
  verified: { ok: boolean; at: string; detail: string } | null;
}

export function readCudaManifest(binDir: string): CudaManifest | null {
  const file = join(binDir, CUDA_MANIFEST_FILE);
  if (!existsSync(file)) return null;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as CudaManifest;
    return manifest.format === 1 ? manifest : null;
  } catch {
    return null;
  }
}

/** Folders the dynamic linker or an NVIDIA container runtime put the driver in. */
const DRIVER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/local/nvidia/lib64', '/usr/local/nvidia/lib', '/usr/lib/wsl/lib', '/lib/x86_64-linux-gnu'];

let ldCache: Map<string, string> | null = null;

/** soname -> path from the linker cache (`ldconfig -p`), read once per process. */
export function linkerCache(): Map<string, string> {
  if (ldCache) return ldCache;
  ldCache = new Map();
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const text = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const line of text.split('\n')) {
        const m = /^\s*(\S+) \(([^)]*)\) => (\S+)/.exec(line);
        if (m && m[2].includes('x86-64') && !ldCache.has(m[1])) ldCache.set(m[1], m[3]);
      }
      break;
    } catch {
      // try the next spelling
    }
  }
  return ldCache;
}

/** Finds a library by soname: extra folders first, then LD_LIBRARY_PATH, the linker cache, the usual folders. */
export function findLibrary(soname: string, extraDirs: readonly string[] = []): string | null {
  const envDirs = (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...extraDirs, ...envDirs]) if (existsSync(join(dir, soname))) return join(dir, soname);
  const cached = linkerCache().get(soname);
  if (cached && existsSync(cached)) return cached;
  for (const dir of DRIVER_DIRS) if (existsSync(join(dir, soname))) return join(dir, soname);
  return null;
}

/** The NVIDIA driver's user-space library, or null on a machine without one. */
export function findCudaDriver(): string | null {
  return findLibrary(DRIVER_SONAME);
}

const preloaded = new Map<string, string | null>();

/**
 * Loads `libraries` by absolute path (in order) so the provider's DT_NEEDED entries resolve.
 * Returns the failures (`soname: reason`); libraries already loaded are skipped.
 */
export function preloadLibraries(libraries: readonly CudaLibrary[]): string[] {
  const failures: string[] = [];
  for (const lib of libraries) {
    if (!preloaded.has(lib.path)) preloaded.set(lib.path, dlopenKeep(lib.path));
    const error = preloaded.get(lib.path);
    if (error) failures.push(`${lib.soname}: ${error}`);
  }
  return failures;
}

/** dlopen(path, RTLD_NOW | RTLD_NODELETE); null on success, else the loader's message. */
function dlopenKeep(path: string): string | null {
  try {
    process.dlopen({ exports: {} }, path, constants.dlopen.RTLD_NOW | RTLD_NODELETE);
    return null;
  } catch (error) {
    const message = String((error as Error).message ?? error);
    // A plain shared library is not a Node addon: loading worked, registration did not.
    return /did not self-register/.test(message) ? null : message;
  }
}

/**
 * Prepares this process for CUDA sessions: the driver (by absolute path when it is outside the
 * default search path), then the manifest's runtime libraries, then the optional ones (their
 * failures are ignored: the provider reports a missing cuDNN only when an op needs it).
 */
export function preloadCudaRuntime(manifest: CudaManifest): { driver: string | null; failures: string[] } {
  const driver = findCudaDriver();
  const failures = driver ? preloadLibraries([{ soname: DRIVER_SONAME, path: driver }]) : [`${DRIVER_SONAME}: not found`];
  const present = manifest.runtime.libraries.filter((l) => existsSync(l.path));
  for (const gone of manifest.runtime.libraries.filter((l) => !present.includes(l))) failures.push(`${gone.soname}: ${gone.path} no longer exists`);
  failures.push(...preloadLibraries(present));
  preloadLibraries(manifest.runtime.optional.filter((l) => existsSync(l.path)));
  return { driver, failures };
}

export type CudaFailureKind = 'driver' | 'device' | 'version' | 'cublas' | 'cudart' | 'curand' | 'cudnn' | 'provider' | 'unknown';

/**
 * Names what is missing from a CUDA failure text (a dlerror, onnxruntime's log line or a CUDA
 * error string), so `tsae gpu setup` and session errors can say driver / library / version.
 */
export function classifyCudaFailure(text: string): { kind: CudaFailureKind; hint: string } {
  const rules: [RegExp, CudaFailureKind, string][] = [
    [/libcuda\.so\.1/, 'driver', 'the NVIDIA driver (libcuda.so.1) is not installed or not visible: install driver >= 580 (CUDA 13), or in a container expose it (--gpus / NVIDIA_DRIVER_CAPABILITIES=compute,utility)'],
    [/insufficient|driver version|CUDA_ERROR_UNSUPPORTED_PTX|cudaErrorInsufficientDriver|error 35\b|failure 35\b/i, 'version', 'the NVIDIA driver is older than the CUDA 13 runtime the provider was built for: driver >= 580 is needed'],
    [/no CUDA-capable device|cudaErrorNoDevice|failure 100\b|error 100\b|CUDA_ERROR_NO_DEVICE|no device/i, 'device', 'the driver is installed but no GPU is visible to this process (CUDA_VISIBLE_DEVICES, container device flags)'],
    [/libcublas(Lt)?\.so/, 'cublas', 'cuBLAS 13 (libcublas.so.13, libcublasLt.so.13) was not found: run `tsae gpu setup` (it installs the PyPI nvidia-cublas wheel or uses PyTorch\'s)'],
    [/libcudart\.so/, 'cudart', 'the CUDA 13 runtime (libcudart.so.13) was not found: run `tsae gpu setup`'],
    [/libcurand\.so/, 'curand', 'cuRAND (libcurand.so.10) was not found: run `tsae gpu setup`'],
    [/cudnn/i, 'cudnn', 'cuDNN 9 for CUDA 13 (libcudnn.so.9) was not found: `tsae gpu setup --cuda-libs pypi` installs nvidia-cudnn-cu13'],
    [/providers_(cuda|shared)\.so|Failed to load shared library|undefined symbol/, 'provider', 'the onnxruntime CUDA provider is missing or does not match libonnxruntime.so.1: rerun `tsae gpu setup`'],
  ];
  for (const [pattern, kind, hint] of rules) if (pattern.test(text)) return { kind, hint };
  return { kind: 'unknown', hint: 'see the onnxruntime message above' };
}
