/**
 * The only module that imports onnxruntime-node. Everything else builds graphs (bytes) and
 * asks this module for sessions and tensors, so the runtime can be swapped or configured in
 * one place (threads, providers) and what actually ran is recorded.
 */
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { TsaeError } from '../core/errors.js';
import {
  classifyCudaFailure,
  CUDA_MANIFEST_FILE,
  CUDA_PROVIDER_FILE,
  findCudaDriver,
  preloadCudaRuntime,
  readCudaManifest,
  SHARED_PROVIDER_FILE,
  type CudaManifest,
} from './cuda-libs.js';
import { DEVICES, type Device } from '../core/devices.js';

export { DEVICES, type Device };

export type Tensor = ort.Tensor;
export const Tensor = ort.Tensor;
export type InferenceSession = ort.InferenceSession;
export type TensorType = ort.Tensor.Type;

export interface SessionOptions {
  device: Device;
  /** Intra-op threads for the CPU provider; 0 lets onnxruntime choose (all cores). */
  intraOpThreads?: number;
  /** Disable graph optimisations, for debugging parity issues. */
  optimize?: boolean;
  /** Let idle intra-op threads spin (lower latency for back-to-back tiny runs); off by default. */
  spinThreads?: boolean;
  /** GPU ordinal for cuda (default 0). */
  deviceId?: number;
}

/** What onnxruntime-node on this machine can run: bundled providers, plus CUDA once `tsae gpu setup` installed it and a driver is present. */
export function availableDevices(): Device[] {
  const out: Device[] = ['cpu'];
  const backends = ort.listSupportedBackends();
  if (backends.some((b) => b.name === 'webgpu')) out.push('webgpu');
  if (cudaStatus().ready) out.push('cuda');
  return out;
}

/** The folder of onnxruntime-node's native libraries, where onnxruntime looks for provider libraries. */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
}

export interface CudaStatus {
  /** Provider libraries and tsae-cuda.json in place, and a driver (libcuda.so.1) on this machine. */
  ready: boolean;
  providerInstalled: boolean;
  manifest: CudaManifest | null;
  driver: string | null;
  /** Why not ready, in words; '' when ready. */
  reason: string;
}

/** Whether the CUDA provider can be tried here, and if not, what is missing. */
export function cudaStatus(binDir = ortBinaryDir()): CudaStatus {
  const providerInstalled = existsSync(join(binDir, CUDA_PROVIDER_FILE)) && existsSync(join(binDir, SHARED_PROVIDER_FILE));
  const manifest = readCudaManifest(binDir);
  const driver = findCudaDriver();
  const reason = !providerInstalled
    ? `the onnxruntime CUDA provider is not installed in ${binDir}`
    : !manifest
      ? `${CUDA_MANIFEST_FILE} is missing in ${binDir} (the CUDA runtime libraries were never located)`
      : !driver
        ? 'no NVIDIA driver (libcuda.so.1) on this machine'
        : '';
  return { ready: reason === '', providerInstalled, manifest, driver, reason };
}

export const CUDA_HOWTO =
  "CUDA needs onnxruntime's CUDA provider (PyPI onnxruntime-gpu of the same version as onnxruntime-node) and the CUDA 13 " +
  'runtime libraries: run `tsae gpu setup` on the GPU machine (see README, \'GPU\').';

/**
 * Once per process, before the first CUDA session: loads the CUDA runtime libraries that
 * tsae-cuda.json lists, so the provider's DT_NEEDED entries resolve (see cuda-libs.ts).
 */
function prepareCuda(): void {
  const status = cudaStatus();
  if (!status.ready) {
    throw new TsaeError('DEVICE_UNAVAILABLE', `Device 'cuda' is not available: ${status.reason}. Available: ${availableDevices().join(', ')}. ${CUDA_HOWTO}`, {
      details: { device: 'cuda', available: availableDevices(), reason: status.reason },
    });
  }
  const { failures } = preloadCudaRuntime(status.manifest!);
  if (failures.length > 0) {
    const { hint } = classifyCudaFailure(failures.join('; '));
    throw new TsaeError('DEVICE_UNAVAILABLE', `Device 'cuda': CUDA libraries could not be loaded (${failures.join('; ')}): ${hint}`, {
      details: { device: 'cuda', failures },
    });
  }
}

/** Creates a session, turning a missing provider into an error that says what is missing. */
export async function createSession(model: string | Uint8Array, options: SessionOptions): Promise<ort.InferenceSession> {
  const providers = executionProviders(options.device, availableDevices(), options.deviceId ?? 0);
  if (options.device === 'cuda') prepareCuda();
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    graphOptimizationLevel: options.optimize === false ? 'disabled' : 'all',
    intraOpNumThreads: options.intraOpThreads ?? 0,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
    // Spinning intra-op threads burn the cores while JavaScript works between runs and while
    // other activities share the machine; blocking threads cost little per (long) run.
    extra: { session: { intra_op: { allow_spinning: options.spinThreads ? '1' : '0' } } },
  };
  try {
    if (typeof model === 'string') return await ort.InferenceSession.create(model, sessionOptions);
    return await ort.InferenceSession.create(model, sessionOptions);
  } catch (error) {
    if (options.device !== 'cpu' && /provider|cuda|webgpu|dawn|vulkan/i.test(String(error))) {
      const first = String((error as Error).message ?? error).split('\n')[0];
      const hint = options.device === 'cuda' ? `${classifyCudaFailure(first).hint}. ${CUDA_HOWTO}` : '';
      throw new TsaeError('DEVICE_UNAVAILABLE', `Device '${options.device}' could not start (${first}). Available here: ${availableDevices().join(', ')}. ${hint}`, {
        cause: error,
        details: { device: options.device, available: availableDevices() },
      });
    }
    throw error;
  }
}

/**
 * Execution providers for `device`, in preference order. CPU comes last for non-CPU devices:
 * onnxruntime assigns the nodes a GPU provider has no kernel for (shape arithmetic on int64,
 * mostly) to it, and copies at those boundaries.
 */
export function executionProviders(device: Device, available: readonly Device[], deviceId = 0): ort.InferenceSession.ExecutionProviderConfig[] {
  if (!DEVICES.includes(device)) {
    throw new TsaeError('BAD_CONFIG', `Unknown device '${String(device)}'; allowed: ${DEVICES.join(', ')}`);
  }
  if (!Number.isInteger(deviceId) || deviceId < 0) throw new TsaeError('BAD_CONFIG', `deviceId must be a non-negative integer, got ${deviceId}`);
  if (!available.includes(device)) {
    const why = device === 'cuda' ? ` (${cudaStatus().reason})` : '';
    throw new TsaeError('DEVICE_UNAVAILABLE', `Device '${device}' is not installed${why}. Available: ${available.join(', ')}. ${device === 'cuda' ? CUDA_HOWTO : ''}`, {
      details: { device, available: [...available] },
    });
  }
  if (device === 'cpu') return ['cpu'];
  if (device === 'cuda') return [{ name: 'cuda', deviceId }, 'cpu'];
  return [device, 'cpu'];
}

export { ort };
