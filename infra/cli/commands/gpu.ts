/** `tsae gpu setup`: onnxruntime's CUDA provider from PyPI and the CUDA 13 runtime libraries (infra/gpu/setup). */
import type { Command } from 'commander';
import { parseCudaLibsMode, type CudaLibsMode } from '../../gpu/setup/cuda-sources.js';
import { EXIT, globalOptions, printResult, UsageError } from './common.js';

/** Parses --cuda-libs: auto | system | python | pypi | dir:<path> (or an absolute path). */
export function parseCudaLibs(value: string): CudaLibsMode {
  const mode = parseCudaLibsMode(value);
  if (!mode) throw new UsageError(`--cuda-libs must be auto, system, python, pypi, dir:<folder> or an absolute folder; got '${value}'`);
  return mode;
}

export function registerGpu(program: Command): void {
  const gpu = program.command('gpu').description('GPU set-up: the CUDA execution provider for onnxruntime-node');
  gpu
    .command('setup')
    .description(
      "Install onnxruntime's CUDA provider (PyPI onnxruntime-gpu of the installed onnxruntime-node's version) next to onnxruntime-node, " +
        'locate the CUDA 13 runtime libraries, and check by creating a CUDA session. Idempotent; run once per machine (or image). ' +
        'Exits 1 with what is missing (driver, device, version, cuBLAS, cuDNN) when CUDA cannot run here.',
    )
    .option('--cuda-libs <source>', 'where the CUDA 13 runtime libraries come from: auto (system, then python, then pypi), system, python (nvidia-*/torch wheels of --python), pypi (pinned wheels into .tools/cuda13-venv), dir:<folder>', 'auto')
    .option('--python <path>', 'Python whose site-packages the python source reads (e.g. the one with PyTorch for CUDA 13)', 'python3')
    .option('--ort-dir <folder>', 'onnxruntime-node package folder to install into (default: the one tsae uses)')
    .option('--cache-dir <folder>', 'where the onnxruntime-gpu wheel is cached (default .tools/gpu-cache/wheels)')
    .option('--provider-dir <folder>', 'take libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so from this folder instead of the PyPI wheel (machines without network)')
    .option('--prepare-only', 'stage the provider and libraries without a driver and without the CUDA check (images built on CPU machines)', false)
    .action(async (options: { cudaLibs: string; python: string; ortDir?: string; cacheDir?: string; providerDir?: string; prepareOnly: boolean }, command: Command) => {
      const global = globalOptions(command);
      const cudaLibs = parseCudaLibs(options.cudaLibs);
      const { runGpuSetup } = await import('../../gpu/setup/gpu-setup.js');
      const result = await runGpuSetup({
        cudaLibs,
        python: options.python,
        ortDir: options.ortDir,
        cacheDir: options.cacheDir,
        providerDir: options.providerDir,
        prepareOnly: options.prepareOnly,
        log: (message) => process.stderr.write(`tsae gpu setup: ${message}\n`),
      });
      printResult(global, result, () =>
        [
          `onnxruntime CUDA provider ${result.onnxruntime} ${result.provider.changed ? 'installed' : 'already installed'} in ${result.binDir} (from ${result.wheel.file}${result.wheel.downloaded ? ', downloaded' : ', cached'})`,
          `CUDA runtime libraries from ${result.runtime.source} (${result.runtime.detail}): ${result.runtime.libraries.map((l) => l.path).join(', ')}`,
          `optional: ${result.runtime.optional.map((l) => l.soname).join(', ') || 'none found'}; environment for other programs: ${result.envFile}`,
          result.verified ? `check: CUDA session created and a MatMul matched (${result.verified.detail})` : 'check skipped (--prepare-only): run `tsae gpu setup` on the GPU machine to verify',
        ].join('\n'),
      );
      process.exitCode = EXIT.ok;
    });
}
