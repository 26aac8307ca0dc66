/**
 * `tsae gpu setup` on a machine without a GPU: the clear failure (exit 1, nothing changed), the
 * CLI's usage errors, and the pure parts (library order, failure classification, sources).
 * The download part (the 247 MB onnxruntime-gpu wheel and the CUDA 13 wheels) runs only with
 * TSAE_GPU_DOWNLOAD_TESTS=1: see gpu-setup-download.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../../../lib/core/package-root.js';
import { classifyCudaFailure, findCudaDriver } from '../../../lib/onnx/cuda-libs.js';
import { ortBinaryDir } from '../../../lib/onnx/backend.js';
import { optionalCudaLibraries, requiredCudaLibraries } from '../../../infra/gpu/setup/gpu-setup.js';
import { resolveCudaLibraries } from '../../../infra/gpu/setup/cuda-sources.js';
import { parseCudaLibs } from '../../../infra/cli/commands/gpu.js';

function tsae(...args: string[]) {
  return spawnSync(process.execPath, [projectPath('bin', 'tsae.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
}

test('without an NVIDIA driver, `tsae gpu setup` exits 1 naming the driver, and changes nothing', async (t) => {
  if (findCudaDriver()) return t.skip('this machine has an NVIDIA driver');
  const before = await readdir(ortBinaryDir());
  const run = tsae('gpu', 'setup');
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /No NVIDIA driver on this machine: libcuda\.so\.1/);
  assert.match(run.stderr, /Nothing was changed/);
  assert.deepEqual(await readdir(ortBinaryDir()), before);
});

test('`tsae gpu setup --help` exits 0; bad options exit 2', () => {
  const help = tsae('gpu', 'setup', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--cuda-libs <source>/);
  assert.equal(tsae('gpu', 'setup', '--cuda-libs', 'nvidia').status, 2);
  assert.equal(tsae('gpu', 'setup', '--no-such-option').status, 2);
});

test('--cuda-libs accepts the four sources, dir:<folder> and absolute folders', () => {
  assert.equal(parseCudaLibs('auto'), 'auto');
  assert.equal(parseCudaLibs('pypi'), 'pypi');
  assert.deepEqual(parseCudaLibs('dir:/opt/cuda/lib64'), { dir: '/opt/cuda/lib64' });
  assert.deepEqual(parseCudaLibs('/usr/local/cuda/lib64'), { dir: '/usr/local/cuda/lib64' });
  assert.throws(() => parseCudaLibs('dir:'), /--cuda-libs must be/);
  assert.throws(() => parseCudaLibs('relative/dir'), /--cuda-libs must be/);
});

test('the provider\'s CUDA libraries are loaded dependencies first; system libraries are not ours to find', () => {
  // DT_NEEDED of onnxruntime-gpu 1.30.0's libonnxruntime_providers_cuda.so, as readelf -d prints it.
  const needed = ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcuda.so.1', 'libdl.so.2', 'libstdc++.so.6', 'libc.so.6'];
  assert.deepEqual(requiredCudaLibraries(needed), ['libcudart.so.13', 'libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10']);
  assert.deepEqual(optionalCudaLibraries(13), ['libnvJitLink.so.13', 'libcufft.so.12', 'libnvrtc.so.13', 'libcudnn.so.9']);
});

test('failure texts name what is missing: driver, device, version, cuBLAS, cuDNN, provider', () => {
  const cases: [string, string][] = [
    ['Failed to load library .../libonnxruntime_providers_cuda.so with error: libcuda.so.1: cannot open shared object file', 'driver'],
    ['... with error: libcublasLt.so.13: cannot open shared object file: No such file or directory', 'cublas'],
    ['CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version', 'version'],
    ['CUDA failure 100: no CUDA-capable device is detected', 'device'],
    ['cuDNN is not available. Install cuDNN, update the system library search path', 'cudnn'],
    ['libcudart.so.13: cannot open shared object file', 'cudart'],
    ['OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library', 'provider'],
    ['something else entirely', 'unknown'],
  ];
  for (const [text, kind] of cases) assert.equal(classifyCudaFailure(text).kind, kind, text);
});

test('a folder source must hold every required library; optional ones are picked up when present', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-cudalibs-'));
  try {
    const lib = join(dir, 'nvidia', 'cu13', 'lib');
    await mkdir(lib, { recursive: true });
    for (const name of ['libcudart.so.13', 'libcublasLt.so.13', 'libcudnn.so.9']) await writeFile(join(lib, name), '');
    const request = { required: ['libcudart.so.13', 'libcublasLt.so.13', 'libcublas.so.13'], optional: ['libcudnn.so.9', 'libcufft.so.12'] };
    await assert.rejects(resolveCudaLibraries({ dir }, request), /dir \(.*\): missing libcublas\.so\.13/);
    await writeFile(join(lib, 'libcublas.so.13'), '');
    const found = await resolveCudaLibraries({ dir }, request);
    assert.equal(found.source, 'dir');
    assert.deepEqual(found.libraries.map((l) => l.path), request.required.map((s) => join(lib, s)));
    assert.deepEqual(found.optional.map((l) => l.soname), ['libcudnn.so.9']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
