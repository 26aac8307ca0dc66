/**
 * Finds the CUDA runtime libraries the provider needs (libcudart.so.13, libcublasLt.so.13,
 * libcublas.so.13, libcurand.so.10; optionally cuDNN 9, cuFFT 12, NVRTC 13, nvJitLink 13) in
 * one of four places, and says which:
 *  - `system`: a CUDA toolkit or distribution packages (LD_LIBRARY_PATH, the linker cache,
 *    CUDA_HOME/lib64, /usr/local/cuda/lib64);
 *  - `python`: a Python environment's nvidia-* wheels, e.g. PyTorch for CUDA 13's dependencies
 *    (site-packages/nvidia/cu13/lib for CUDA 13's consolidated wheels, nvidia/cudnn/lib, or the
 *    per-component nvidia/<name>/lib of older layouts; see onnxruntime's _get_nvidia_dll_paths);
 *  - `pypi`: the pinned nvidia-* wheels of infra/setup/requirements-cuda13.txt, installed into
 *    the project toolchain .tools/cuda13-venv;
 *  - a folder given by the user.
 * A source counts only if it holds every required library; optional ones are then looked up in
 * the same source first, then the others.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findLibrary, type CudaLibrary } from '../../../lib/onnx/cuda-libs.js';
import { projectPath } from '../../../lib/core/package-root.js';

export type CudaLibsMode = 'auto' | 'system' | 'python' | 'pypi' | { dir: string };

/** Parses auto | system | python | pypi | dir:<folder> | /absolute/folder; null when none fits. */
export function parseCudaLibsMode(value: string): CudaLibsMode | null {
  if (value === 'auto' || value === 'system' || value === 'python' || value === 'pypi') return value;
  if (value.startsWith('dir:') && value.length > 4) return { dir: value.slice(4) };
  if (value.startsWith('/')) return { dir: value };
  return null;
}

export interface ResolvedCudaLibraries {
  source: 'pypi' | 'python' | 'system' | 'dir';
  detail: string;
  libraries: CudaLibrary[];
  optional: CudaLibrary[];
}

export interface ResolveRequest {
  /** Sonames the provider links (DT_NEEDED) that a source must supply, dependencies first. */
  required: string[];
  /** Sonames loaded lazily when present. */
  optional: string[];
  /** Python whose site-packages the `python` source reads (default python3). */
  python?: string;
  /** Called for the `pypi` source: installs the pinned wheels, returns that venv's python. */
  installPypi?: () => Promise<string>;
  log?: (message: string) => void;
}

interface Candidate {
  source: ResolvedCudaLibraries['source'];
  detail: string;
  dirs: string[];
}

/** Sub-folders of a site-packages folder where nvidia-* wheels and PyTorch keep libraries. */
export function nvidiaLibDirs(sitePackages: string): string[] {
  const out: string[] = [];
  const nvidia = join(sitePackages, 'nvidia');
  if (existsSync(nvidia)) {
    for (const name of readdirSync(nvidia).sort()) if (existsSync(join(nvidia, name, 'lib'))) out.push(join(nvidia, name, 'lib'));
  }
  if (existsSync(join(sitePackages, 'torch', 'lib'))) out.push(join(sitePackages, 'torch', 'lib'));
  return out;
}

/** site-packages folders of `python` (empty when it cannot be run). */
export function sitePackagesOf(python: string): string[] {
  try {
    const script = 'import json, site, sys; print(json.dumps(site.getsitepackages() + [site.getusersitepackages()] + sys.path))';
    const dirs = JSON.parse(execFileSync(python, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 })) as string[];
    return [...new Set(dirs.filter((d) => d && existsSync(d)))];
  } catch {
    return [];
  }
}

function systemCandidate(): Candidate {
  const home = process.env.CUDA_HOME ?? process.env.CUDA_PATH;
  const dirs = [home && join(home, 'lib64'), home && join(home, 'lib'), '/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib'].filter((d): d is string => Boolean(d && existsSync(d)));
  return { source: 'system', detail: 'LD_LIBRARY_PATH, the linker cache (ldconfig -p), CUDA_HOME, /usr/local/cuda', dirs };
}

function pythonCandidate(python: string, source: 'python' | 'pypi'): Candidate {
  const dirs = sitePackagesOf(python).flatMap(nvidiaLibDirs);
  return { source, detail: `${source === 'pypi' ? 'pinned PyPI nvidia-* wheels in' : 'the nvidia-* / torch libraries of'} ${python}`, dirs };
}

function locate(soname: string, candidate: Candidate): string | null {
  if (candidate.source === 'system') return findLibrary(soname, candidate.dirs);
  for (const dir of candidate.dirs) if (existsSync(join(dir, soname))) return join(dir, soname);
  return null;
}

function complete(candidate: Candidate, request: ResolveRequest, others: Candidate[]): ResolvedCudaLibraries | null {
  const libraries: CudaLibrary[] = [];
  for (const soname of request.required) {
    const path = locate(soname, candidate);
    if (!path) return null;
    libraries.push({ soname, path });
  }
  const optional: CudaLibrary[] = [];
  for (const soname of request.optional) {
    for (const c of [candidate, ...others]) {
      const path = locate(soname, c);
      if (path) {
        optional.push({ soname, path });
        break;
      }
    }
  }
  return { source: candidate.source, detail: candidate.detail, libraries, optional };
}

/** Missing sonames of a candidate, for the error message. */
function missing(candidate: Candidate, required: string[]): string[] {
  return required.filter((s) => !locate(s, candidate));
}

/**
 * Resolves the libraries per `mode`; `auto` tries system, then the Python environment, then
 * installs the pinned PyPI wheels. Throws an Error naming what each tried source lacked.
 */
export async function resolveCudaLibraries(mode: CudaLibsMode, request: ResolveRequest): Promise<ResolvedCudaLibraries> {
  const python = request.python ?? 'python3';
  const tried: string[] = [];
  const attempt = (candidate: Candidate, others: Candidate[] = []): ResolvedCudaLibraries | null => {
    const found = complete(candidate, request, others);
    if (!found) tried.push(`${candidate.source} (${candidate.detail}): missing ${missing(candidate, request.required).join(', ')}`);
    return found;
  };
  if (typeof mode === 'object') {
    const found = attempt({ source: 'dir', detail: mode.dir, dirs: [mode.dir, ...nvidiaLibDirs(mode.dir)] });
    if (found) return found;
  } else {
    const local = [systemCandidate(), pythonCandidate(python, 'python')];
    if (mode === 'auto' || mode === 'system') {
      const found = attempt(local[0], [local[1]]);
      if (found) return found;
    }
    if (mode === 'auto' || mode === 'python') {
      const found = attempt(local[1], [local[0]]);
      if (found) return found;
    }
    if (mode === 'auto' || mode === 'pypi') {
      if (!request.installPypi) throw new Error('the pypi source needs an installer');
      request.log?.('installing the pinned CUDA 13 runtime wheels (infra/setup/requirements-cuda13.txt) into .tools/cuda13-venv');
      const found = attempt(pythonCandidate(await request.installPypi(), 'pypi'), local);
      if (found) return found;
    }
  }
  throw new Error(`the CUDA runtime libraries were not found: ${tried.join('; ')}`);
}

/** Installs (idempotently) the `cuda13` toolchain and returns its python. */
export async function installPypiCudaLibraries(): Promise<string> {
  const toolchain = (await import(pathToFileURL(projectPath('infra', 'setup', 'toolchain.mjs')).href)) as { ensureToolchain(name: string, options?: { quiet?: boolean }): string };
  return toolchain.ensureToolchain('cuda13', { quiet: false });
}
