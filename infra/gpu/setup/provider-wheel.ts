/**
 * onnxruntime's CUDA provider from PyPI: the `onnxruntime-gpu` wheel whose version equals the
 * installed onnxruntime-node holds `onnxruntime/capi/libonnxruntime_providers_cuda.so` and
 * `libonnxruntime_providers_shared.so`, the same two files onnxruntime-node's own
 * script/install.js takes from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux and puts
 * next to onnxruntime_binding.node (bin/napi-v6/linux/x64/). We only swap the source: PyPI is
 * reachable where NuGet is not, and pip is already part of the project's set-up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TsaeError } from '../../../lib/core/errors.js';

export const WHEEL_MEMBERS = ['onnxruntime/capi/libonnxruntime_providers_cuda.so', 'onnxruntime/capi/libonnxruntime_providers_shared.so'] as const;

export interface OrtNodePackage {
  dir: string;
  version: string;
  /** Where libonnxruntime.so.1 and the binding live, and where providers go. */
  binDir: string;
}

/** The onnxruntime-node package in use (or the one at `dir`, for tests and copies). */
export function ortNodePackage(dir?: string): OrtNodePackage {
  const root = dir ?? dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const pkgFile = join(root, 'package.json');
  if (!existsSync(pkgFile)) throw new TsaeError('NOT_FOUND', `${pkgFile} does not exist: not an onnxruntime-node package folder`);
  const version = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  const binDir = join(root, 'bin', 'napi-v6', process.platform, process.arch);
  if (!existsSync(join(binDir, 'libonnxruntime.so.1'))) throw new TsaeError('NOT_FOUND', `${binDir}/libonnxruntime.so.1 does not exist: onnxruntime-node is incomplete`);
  return { dir: root, version, binDir };
}

/** The cached wheel for `version`, if an earlier run downloaded it. */
export function cachedWheel(cacheDir: string, version: string): string | null {
  if (!existsSync(cacheDir)) return null;
  const name = readdirSync(cacheDir).find((f) => f.startsWith(`onnxruntime_gpu-${version}-`) && f.endsWith('.whl'));
  return name ? join(cacheDir, name) : null;
}

/**
 * Downloads `onnxruntime-gpu==version` with pip into `cacheDir` unless it is there. The wheel's
 * tags are fixed (CPython 3.11, manylinux x86_64) so every machine fetches the same file,
 * whatever its own Python; the provider libraries inside do not depend on Python.
 */
export function fetchProviderWheel(python: string, version: string, cacheDir: string, log: (m: string) => void): { wheel: string; downloaded: boolean } {
  const cached = cachedWheel(cacheDir, version);
  if (cached) return { wheel: cached, downloaded: false };
  mkdirSync(cacheDir, { recursive: true });
  log(`downloading onnxruntime-gpu==${version} from PyPI (about 250 MB) into ${cacheDir}`);
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--implementation', 'cp', '--python-version', '3.11'];
  for (const platform of ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64']) args.push('--platform', platform);
  try {
    execFileSync(python, [...args, '-d', cacheDir, `onnxruntime-gpu==${version}`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-3).join(' ');
    throw new TsaeError('NOT_FOUND', `pip could not download onnxruntime-gpu==${version} (the version of the installed onnxruntime-node): ${stderr || (error as Error).message}. Check with \`${python} -m pip index versions onnxruntime-gpu\`.`, { cause: error });
  }
  const wheel = cachedWheel(cacheDir, version);
  if (!wheel) throw new TsaeError('NOT_FOUND', `pip reported success but no onnxruntime_gpu-${version}-*.whl is in ${cacheDir}`);
  return { wheel, downloaded: true };
}

/**
 * Extracts wheel members into `destDir` by base name, each written to a temporary file and
 * renamed, so a killed extraction never leaves a half-written provider where onnxruntime looks.
 * Uses the project's Python (zipfile streams; the 272 MB provider never sits in memory).
 */
export function extractWheelMembers(python: string, wheel: string, members: readonly string[], destDir: string): Record<string, { sha256: string; bytes: number }> {
  const script = [
    'import hashlib, json, os, sys, zipfile',
    'wheel, dest, members = sys.argv[1], sys.argv[2], sys.argv[3:]',
    'out = {}',
    'with zipfile.ZipFile(wheel) as z:',
    '    for m in members:',
    '        name = os.path.basename(m); tmp = os.path.join(dest, "." + name + ".tsae-tmp"); h = hashlib.sha256()',
    '        with z.open(m) as src, open(tmp, "wb") as dst:',
    '            for block in iter(lambda: src.read(1 << 20), b""):',
    '                h.update(block); dst.write(block)',
    '        os.chmod(tmp, 0o755); os.replace(tmp, os.path.join(dest, name))',
    '        out[name] = {"sha256": h.hexdigest(), "bytes": os.path.getsize(os.path.join(dest, name))}',
    'print(json.dumps(out))',
  ].join('\n');
  try {
    return JSON.parse(execFileSync(python, ['-c', script, wheel, destDir, ...members], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-2).join(' ');
    throw new TsaeError('CORRUPT_ARTIFACT', `${wheel}: could not extract ${members.join(', ')} (${stderr || (error as Error).message}); delete the file and rerun`, { cause: error });
  }
}
