/**
 * Builds .gpu/: the GPU check as folders that each fit one device-tool transfer (the working tree
 * that travels is at most 64 MiB, this repository's tracked files included, so a folder gets at
 * most --max-mib, 52 by default):
 *   .gpu/p0 .. pN   the CUDA provider, xz -9e, split into parts, each with stage.sh (copies its
 *                   part to /tmp/tsae-gpu/parts on the device, where later calls find it);
 *   .gpu/run        node (xz), onnxruntime-node for linux-x64 (libonnxruntime.so.1 xz), the check
 *                   bundled into gpu-check.mjs + probe.js, the Python side (random-model export,
 *                   PyTorch references), run.sh.
 * --provider sm90 (default) zeroes every non-sm_90 cubin payload first (setup/fatbin.ts): about
 * 48 MiB, one part; --provider full keeps the wheel's file byte for byte: about 170 MiB, four parts.
 *
 *   node dist/infra/gpu/payload/build-payload.js [--provider sm90|full] [--max-mib 52]
 *   node dist/infra/gpu/payload/build-payload.js --refresh     (re-bundle the code into .gpu/run only)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectPath } from '../../../lib/core/package-root.js';
import { slimFatbin } from '../setup/fatbin.js';
import { extractWheelMembers, fetchProviderWheel, ortNodePackage, WHEEL_MEMBERS } from '../setup/provider-wheel.js';

const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function du(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? du(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

function xz(input: string, output: string): void {
  execFileSync('bash', ['-c', `xz -9e -T0 -c "${input}" > "${output}"`], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The provider from the cached onnxruntime-gpu wheel, slimmed to sm_90 unless `full`. */
function providerBytes(mode: 'sm90' | 'full', work: string, log: (m: string) => void): { file: string; sha256: string; zeroed: number } {
  const python = existsSync(projectPath('.tools', 'venv', 'bin', 'python')) ? projectPath('.tools', 'venv', 'bin', 'python') : 'python3';
  const { wheel } = fetchProviderWheel(python, ortNodePackage().version, projectPath('.tools', 'gpu-cache', 'wheels'), log);
  extractWheelMembers(python, wheel, WHEEL_MEMBERS, work);
  const file = join(work, 'libonnxruntime_providers_cuda.so');
  if (mode === 'full') return { file, sha256: sha256(readFileSync(file)), zeroed: 0 };
  const bytes = readFileSync(file);
  const { zeroed, byArch } = slimFatbin(bytes, [90], file);
  writeFileSync(file, bytes);
  log(`zeroed ${(zeroed / MiB).toFixed(1)} MiB of cubins (${Object.entries(byArch).map(([a, b]) => `${a} ${(b / MiB).toFixed(1)}`).join(', ')})`);
  return { file, sha256: sha256(bytes), zeroed };
}

function stageScript(part: string): string {
  return [
    '#!/usr/bin/env bash',
    '# Device call for one provider part: keep it where the run call finds it, on this warm machine.',
    'set -euo pipefail',
    'mkdir -p /tmp/tsae-gpu/parts',
    `cp "$(dirname "$0")/${part}" /tmp/tsae-gpu/parts/`,
    'ls -la /tmp/tsae-gpu/parts; df -h /tmp | tail -1',
    '',
  ].join('\n');
}

function bundle(entry: string, outfile: string): void {
  const banner = "import { createRequire as __tsaeRequire } from 'node:module'; const require = __tsaeRequire(import.meta.url);";
  execFileSync(projectPath('node_modules', '.bin', 'esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', '--target=node20', '--external:onnxruntime-node', '--log-level=warning', `--outfile=${outfile}`, `--banner:js=${banner}`], { stdio: 'inherit' });
}

function runFolder(run: string, provider: { sha256: string; parts: { name: string; sha256: string }[] }, work: string): void {
  const ort = ortNodePackage();
  const nm = join(run, 'node_modules', 'onnxruntime-node');
  mkdirSync(join(nm, 'bin', 'napi-v6', 'linux', 'x64'), { recursive: true });
  cpSync(join(ort.dir, 'package.json'), join(nm, 'package.json'));
  cpSync(join(ort.dir, 'dist'), join(nm, 'dist'), { recursive: true });
  copyFileSync(join(ort.binDir, 'onnxruntime_binding.node'), join(nm, 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'));
  xz(join(ort.binDir, 'libonnxruntime.so.1'), join(run, 'libonnxruntime.so.1.xz'));
  cpSync(join(dirname(ort.dir), 'onnxruntime-common'), join(run, 'node_modules', 'onnxruntime-common'), { recursive: true, dereference: true });
  xz(process.execPath, join(run, 'node.xz'));
  mkdirSync(join(run, 'provider'));
  copyFileSync(join(work, 'libonnxruntime_providers_shared.so'), join(run, 'provider', 'libonnxruntime_providers_shared.so'));
  // packageRoot() finds the payload root by package.json + lib/onnx/onnx.proto.
  writeFileSync(join(run, 'package.json'), '{ "name": "tsae-gpu-check", "private": true, "type": "module" }\n');
  mkdirSync(join(run, 'lib', 'onnx'), { recursive: true });
  copyFileSync(projectPath('lib', 'onnx', 'onnx.proto'), join(run, 'lib', 'onnx', 'onnx.proto'));
  writeFileSync(join(run, 'provider.json'), JSON.stringify(provider, null, 2) + '\n');
  copyScripts(run);
}

/** Our code and scripts: the part of run/ that changes with the sources (--refresh redoes only this). */
function copyScripts(run: string): void {
  bundle(projectPath('infra', 'gpu', 'check', 'gpu-check.ts'), join(run, 'gpu-check.mjs'));
  bundle(projectPath('infra', 'gpu', 'setup', 'probe.ts'), join(run, 'probe.js'));
  mkdirSync(join(run, 'python'), { recursive: true });
  copyFileSync(projectPath('infra', 'python-runtime', 'onnx_export.py'), join(run, 'python', 'onnx_export.py'));
  copyFileSync(projectPath('infra', 'dev', 'python', 'bench_train_torch.py'), join(run, 'python', 'bench_train_torch.py'));
  for (const f of ['make_random_model.py', 'torch_reference.py', 'gemma3-270m-config.json', 'gemma2-2b-config.json', 'run.sh']) copyFileSync(projectPath('infra', 'gpu', f), join(run, f));
}

function main(): void {
  const { values } = parseArgs({ options: { provider: { type: 'string', default: 'sm90' }, 'max-mib': { type: 'string', default: '52' }, refresh: { type: 'boolean', default: false } } });
  if (values.refresh) {
    if (!existsSync(projectPath('.gpu', 'run', 'provider.json'))) throw new Error('--refresh needs an earlier full build of .gpu/');
    copyScripts(projectPath('.gpu', 'run'));
    process.stdout.write(`refreshed the scripts in .gpu/run (${(du(projectPath('.gpu', 'run')) / MiB).toFixed(1)} MiB)\n`);
    return;
  }
  const mode = values.provider as 'sm90' | 'full';
  const maxBytes = Number(values['max-mib']) * MiB;
  if (mode !== 'sm90' && mode !== 'full') throw new Error(`--provider must be sm90 or full, got ${values.provider}`);
  const root = projectPath('.gpu');
  const work = join(root, '.build');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const log = (m: string) => process.stderr.write(`[build-payload] ${m}\n`);
  const provider = providerBytes(mode, work, log);
  xz(provider.file, join(work, 'provider.so.xz'));
  const packed = readFileSync(join(work, 'provider.so.xz'));
  const parts: { name: string; sha256: string }[] = [];
  for (let i = 0; i * maxBytes < packed.length; i++) {
    const name = `provider.so.xz.part${String(i).padStart(2, '0')}`;
    const bytes = packed.subarray(i * maxBytes, (i + 1) * maxBytes);
    mkdirSync(join(root, `p${i}`));
    writeFileSync(join(root, `p${i}`, name), bytes);
    writeFileSync(join(root, `p${i}`, 'stage.sh'), stageScript(name));
    parts.push({ name, sha256: sha256(bytes) });
  }
  runFolder(join(root, 'run'), { sha256: provider.sha256, parts }, work);
  rmSync(work, { recursive: true, force: true });
  const sizes = readdirSync(root).map((d) => ({ folder: `.gpu/${d}`, bytes: du(join(root, d)) }));
  for (const s of sizes) log(`${s.folder}: ${(s.bytes / MiB).toFixed(1)} MiB`);
  const over = sizes.filter((s) => s.bytes > maxBytes + MiB);
  if (over.length > 0) throw new Error(`over the ${values['max-mib']} MiB transfer budget: ${over.map((s) => s.folder).join(', ')}`);
  writeFileSync(join(root, 'sizes.json'), JSON.stringify({ provider: mode, providerSha256: provider.sha256, parts: parts.length, sizes }, null, 2) + '\n');
  process.stdout.write(JSON.stringify({ provider: mode, parts: parts.length, sizes }) + '\n');
}

main();
