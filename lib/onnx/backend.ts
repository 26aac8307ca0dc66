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
}

/** What onnxruntime-node on this machine can run: bundled providers plus CUDA if its libraries are present. */
export function availableDevices(): Device[] {
  const out: Device[] = ['cpu'];
  const backends = ort.listSupportedBackends();
  if (backends.some((b) => b.name === 'webgpu')) out.push('webgpu');
  if (cudaProviderInstalled()) out.push('cuda');
  return out;
}

function cudaProviderInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const binding = dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(join(binding, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

export const CUDA_HOWTO =
  'CUDA needs the onnxruntime CUDA provider libraries, which offline installs skip: run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` on a machine with ' +
  'internet and CUDA 12, or copy libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so next to ' +
  "onnxruntime-node's libonnxruntime.so.1 (see README, 'GPU').";

/** Creates a session, turning a missing provider into an error that lists what is available. */
export async function createSession(model: string | Uint8Array, options: SessionOptions): Promise<ort.InferenceSession> {
  const providers = executionProviders(options.device);
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
      throw new TsaeError(
        'DEVICE_UNAVAILABLE',
        `Device '${options.device}' could not start (${String((error as Error).message ?? error).split('\n')[0]}). ` +
          `Available here: ${availableDevices().join(', ')}. ${options.device === 'cuda' ? CUDA_HOWTO : ''}`,
        { cause: error, details: { device: options.device, available: availableDevices() } },
      );
    }
    throw error;
  }
}

function executionProviders(device: Device): ort.InferenceSession.ExecutionProviderConfig[] {
  if (!DEVICES.includes(device)) {
    throw new TsaeError('BAD_CONFIG', `Unknown device '${String(device)}'; allowed: ${DEVICES.join(', ')}`);
  }
  if (device === 'cuda' && !availableDevices().includes('cuda')) {
    throw new TsaeError('DEVICE_UNAVAILABLE', `Device 'cuda' is not installed. Available: ${availableDevices().join(', ')}. ${CUDA_HOWTO}`, {
      details: { device, available: availableDevices() },
    });
  }
  return device === 'cpu' ? ['cpu'] : [device, 'cpu'];
}

export { ort };
