/**
 * The download half of `tsae gpu setup`, on a copy of onnxruntime-node: fetch the
 * onnxruntime-gpu wheel (247 MB, cached in .tools/gpu-cache/wheels), extract the provider,
 * resolve the CUDA 13 libraries from the pinned PyPI wheels (about 480 MB more), run again
 * (idempotent), and check as far as a machine without a GPU can: onnxruntime then fails on
 * libcuda.so.1 alone. Opt-in for users (TSAE_GPU_DOWNLOAD_TESTS=1); CI sets it (.ci/run), so it
 * runs there: about 15 s with the wheels cached, plus the download on a fresh clone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { projectPath } from '../../../lib/core/package-root.js';
import { CUDA_MANIFEST_FILE, findCudaDriver, type CudaManifest } from '../../../lib/onnx/cuda-libs.js';
import { readDynamic } from '../../../infra/gpu/setup/elf.js';
import { readFatbin } from '../../../infra/gpu/setup/fatbin.js';
import { verifyCuda } from '../../../infra/gpu/setup/gpu-setup.js';

const enabled = process.env.TSAE_GPU_DOWNLOAD_TESTS === '1';
const CUDA_WHEELS = ['nvidia-cuda-runtime==13.0.96', 'nvidia-cublas==13.1.0.3', 'nvidia-curand==10.4.0.35'];

function python(): string {
  const venv = projectPath('.tools', 'venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/** The three CUDA wheels the provider links, downloaded once and unpacked into `dest`. */
function cudaLibraries(dest: string): void {
  const cache = projectPath('.tools', 'gpu-cache', 'wheels');
  execFileSync(python(), ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-q', '-d', cache, ...CUDA_WHEELS], { stdio: 'ignore' });
  const script = 'import glob, sys, zipfile\nfor w in sys.argv[2:]:\n    zipfile.ZipFile(w).extractall(sys.argv[1])';
  const wheels = CUDA_WHEELS.map((w) => join(cache, `${w.split('==')[0].replace(/-/g, '_')}-${w.split('==')[1]}-py3-none-manylinux*.whl`));
  execFileSync('bash', ['-c', `${python()} -c '${script}' ${dest} ${wheels.join(' ')}`]);
}

async function copyOrt(dest: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const ort = dirname(require.resolve('onnxruntime-node/package.json'));
  // onnxruntime-common's exports map hides package.json: its folder is the node_modules entry.
  const common = join(dirname(ort), 'onnxruntime-common');
  await cp(ort, join(dest, 'onnxruntime-node'), { recursive: true, dereference: true });
  await mkdir(join(dest, 'node_modules'), { recursive: true });
  await cp(common, join(dest, 'node_modules', 'onnxruntime-common'), { recursive: true, dereference: true });
  return join(dest, 'onnxruntime-node');
}

test('gpu setup --prepare-only installs the PyPI provider into onnxruntime-node, idempotently; only the driver is then missing', { skip: !enabled && 'set TSAE_GPU_DOWNLOAD_TESTS=1 (downloads about 730 MB once)', timeout: 1_800_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-gpu-setup-'));
  try {
    const ortDir = await copyOrt(dir);
    cudaLibraries(join(dir, 'cuda'));
    const args = [projectPath('bin', 'tsae.js'), '--json', 'gpu', 'setup', '--prepare-only', '--ort-dir', ortDir, '--cuda-libs', `dir:${join(dir, 'cuda')}`];
    const first = spawnSync(process.execPath, args, { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const result = JSON.parse(first.stdout);
    const binDir = join(ortDir, 'bin', 'napi-v6', 'linux', 'x64');
    const provider = join(binDir, 'libonnxruntime_providers_cuda.so');
    assert.equal(result.onnxruntime, JSON.parse(await readFile(join(ortDir, 'package.json'), 'utf8')).version);
    assert.match(result.wheel.file, /onnxruntime_gpu-1\.30\.0-cp311-cp311-manylinux_2_28_x86_64\.whl$/);
    assert.ok(existsSync(join(binDir, 'libonnxruntime_providers_shared.so')));
    const readelf = execFileSync('readelf', ['-d', provider], { encoding: 'utf8' });
    assert.deepEqual(readDynamic(readFileSync(provider)).needed, [...readelf.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]));
    const manifest = JSON.parse(await readFile(join(binDir, CUDA_MANIFEST_FILE), 'utf8')) as CudaManifest;
    assert.equal(manifest.provider.cudaMajor, 13);
    assert.deepEqual(manifest.runtime.libraries.map((l) => l.soname), ['libcudart.so.13', 'libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10']);
    assert.equal(manifest.verified, null);
    assert.match(await readFile(join(binDir, 'tsae-cuda.env'), 'utf8'), /export LD_LIBRARY_PATH=".*cuda\/nvidia\/cu13\/lib/);

    const second = spawnSync(process.execPath, args, { encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(JSON.parse(second.stdout).provider.changed, false, 'the second run reuses the installed provider');
    assert.equal(JSON.parse(second.stdout).wheel.downloaded, false);

    const fatbin = readFatbin(readFileSync(provider));
    assert.deepEqual(Object.keys(fatbin.bytesByArch).sort(), ['cubin:sm_120', 'cubin:sm_75', 'cubin:sm_80', 'cubin:sm_86', 'cubin:sm_89', 'cubin:sm_90']);
    assert.ok(fatbin.bytesByArch['cubin:sm_90'] > 70e6);

    if (!findCudaDriver()) {
      const check = verifyCuda(ortDir);
      assert.equal(check.ok, false);
      assert.match(check.detail, /libonnxruntime_providers_cuda\.so with error: libcuda\.so\.1: cannot open shared object file/);
      assert.doesNotMatch(check.detail, /libcublas|libcudart|libcurand/, 'every CUDA runtime library resolved by preloading');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
