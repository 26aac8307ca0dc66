import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsaeError } from '../../../lib/core/errors.js';
import { availableDevices, cudaStatus, executionProviders, ortBinaryDir } from '../../../lib/onnx/backend.js';
import { findCudaDriver, preloadLibraries } from '../../../lib/onnx/cuda-libs.js';

test('provider selection: cpu alone; cuda with its device id and cpu fallback; webgpu then cpu', () => {
  assert.deepEqual(executionProviders('cpu', ['cpu']), ['cpu']);
  assert.deepEqual(executionProviders('cuda', ['cpu', 'cuda']), [{ name: 'cuda', deviceId: 0 }, 'cpu']);
  assert.deepEqual(executionProviders('cuda', ['cpu', 'cuda'], 3), [{ name: 'cuda', deviceId: 3 }, 'cpu']);
  assert.deepEqual(executionProviders('webgpu', ['cpu', 'webgpu']), ['webgpu', 'cpu']);
});

test('provider selection: a device that is not installed is DEVICE_UNAVAILABLE (not retryable) and points to `tsae gpu setup`', () => {
  assert.throws(
    () => executionProviders('cuda', ['cpu', 'webgpu']),
    (e: unknown) => e instanceof TsaeError && e.code === 'DEVICE_UNAVAILABLE' && !e.retryable && /Available: cpu, webgpu/.test(e.message) && /tsae gpu setup/.test(e.message),
  );
  assert.throws(() => executionProviders('tpu' as never, ['cpu']), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG' && /allowed: cpu, cuda, webgpu/.test(e.message));
  assert.throws(() => executionProviders('cuda', ['cpu', 'cuda'], -1), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG');
});

test('cudaStatus says what is missing: provider, then tsae-cuda.json, then the driver', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-cuda-status-'));
  try {
    assert.match(cudaStatus(dir).reason, /CUDA provider is not installed/);
    await writeFile(join(dir, 'libonnxruntime_providers_cuda.so'), '');
    await writeFile(join(dir, 'libonnxruntime_providers_shared.so'), '');
    assert.match(cudaStatus(dir).reason, /tsae-cuda\.json is missing/);
    const manifest = { format: 1, onnxruntime: '1.30.0', provider: { wheel: 'w', sha256: '', bytes: 0, cudaMajor: 13, needed: [] }, runtime: { source: 'dir', detail: dir, libraries: [], optional: [] }, verified: null };
    await writeFile(join(dir, 'tsae-cuda.json'), JSON.stringify(manifest));
    const status = cudaStatus(dir);
    assert.deepEqual(status.manifest, manifest);
    if (findCudaDriver()) assert.equal(status.ready, true);
    else assert.equal(status.reason, 'no NVIDIA driver (libcuda.so.1) on this machine');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('on a machine without the CUDA provider, cuda is not listed and cpu always is', (t) => {
  assert.ok(availableDevices().includes('cpu'));
  if (cudaStatus().ready) return t.skip('CUDA is set up here');
  assert.ok(!availableDevices().includes('cuda'));
});

test('preloading loads a shared library by path and reports a missing one with the loader message', () => {
  assert.deepEqual(preloadLibraries([{ soname: 'libonnxruntime.so.1', path: join(ortBinaryDir(), 'libonnxruntime.so.1') }]), []);
  const failures = preloadLibraries([{ soname: 'libcublas.so.13', path: '/nonexistent/libcublas.so.13' }]);
  assert.equal(failures.length, 1);
  assert.match(failures[0], /^libcublas\.so\.13: .*cannot open shared object file/);
});
