/**
 * Bring your own SAE, end to end on a real dev server: an SAE our pipeline trained, evaluated
 * again by `tsae eval` as an external SAELens folder, gives the same metrics as its in-run eval;
 * bad folders exit 2 naming the problem before anything starts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineResult } from '../../schemas/pipeline.js';
import { projectPath } from '../../lib/core/package-root.js';
import { writeSafetensors } from '../../stages/train/safetensors.js';
import { runCli, startTestEnvironment, startWorkerProcess, type TestEnvironment, type WorkerProcess } from '../helpers/temporal-env.js';

const RUN_TIMEOUT_MS = 300_000;
const SMOKE = ['--set', 'sae.variants=[{variant: standard}]', '--set', 'evaluate.families=[core, temporal]'];
const MODEL = projectPath('test', 'fixtures', 'model', 'gemma2');

let env: TestEnvironment;
let worker: WorkerProcess;

describe('tsae eval on a real Temporal dev server', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    env = await startTestEnvironment();
    worker = startWorkerProcess(env.env);
  });

  after(async () => {
    await worker?.kill('SIGTERM');
    await env?.close();
  });

  test('an SAE exported by a run, evaluated as an external SAE, reproduces its in-run metrics', async () => {
    const trained = await runCli(['run', '--preset', 'smoke', '--watch', '--id', 'trained', ...SMOKE], env.env, RUN_TIMEOUT_MS);
    assert.equal(trained.code, 0, trained.stderr);
    const run = (await env.client.workflow.getHandle('trained').result()) as PipelineResult;
    // Copy the exported folder elsewhere: the external SAE is addressed by its bytes, not its path.
    const folder = join(env.dataDir, 'elsewhere', 'my-sae');
    mkdirSync(join(env.dataDir, 'elsewhere'), { recursive: true });
    cpSync(join(env.dataDir, run.variants[0].sae.ref.path), folder, { recursive: true });
    const evaluated = await runCli(['eval', folder, '--model', MODEL, '--layer', '1', '--preset', 'smoke', '--families', 'core,temporal', '--watch', '--id', 'byo'], env.env, RUN_TIMEOUT_MS);
    assert.equal(evaluated.code, 0, evaluated.stderr + evaluated.stdout);
    const inRun = JSON.parse(await readFile(join(env.dataDir, 'runs', 'trained', 'metrics.json'), 'utf8'));
    const external = JSON.parse(await readFile(join(env.dataDir, 'runs', 'byo', 'metrics.json'), 'utf8'));
    assert.deepEqual(Object.keys(external), ['my-sae']);
    for (const family of ['core', 'temporal']) {
      const a = flatten(inRun.standard[family].eval_result_metrics);
      const b = flatten(external['my-sae'][family].eval_result_metrics);
      assert.ok(Object.keys(a).length > 5, `${family}: too few metrics`);
      for (const [path, value] of Object.entries(a)) assert.ok(Math.abs(value - b[path]) <= 1e-6 * Math.max(1, Math.abs(value)), `${family}.${path}: in-run ${value}, external ${b[path]}`);
    }
    const report = JSON.parse(await readFile(join(env.dataDir, 'runs', 'byo', 'report-input.json'), 'utf8'));
    const provenance = report.variants[0].hyperparameters;
    assert.equal(provenance.source, folder);
    assert.match(provenance.sha256, /^[0-9a-f]{64}$/);
    assert.equal(report.variants[0].variant, 'external standard');
  });

  test('bad folders exit 2 naming the problem, and start nothing', async () => {
    const bad = join(env.dataDir, 'bad');
    const cases: [string, (dir: string) => void | Promise<void>, RegExp][] = [
      ['no-cfg', () => {}, /cfg\.json|config\.json|no SAE/i],
      ['wrong-d-in', (dir) => saeLensFolder(dir, 'standard', 7), /d_in.*7.*32|32.*d_in/],
      ['unknown-arch', (dir) => saeLensFolder(dir, 'matryoshka-widget', 32), /architecture/],
    ];
    for (const [name, make, pattern] of cases) {
      const dir = join(bad, name);
      mkdirSync(dir, { recursive: true });
      await make(dir);
      const result = await runCli(['eval', dir, '--model', MODEL, '--layer', '1', '--preset', 'smoke', '--id', `bad-${name}`], env.env);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, pattern, `${name}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(dir.replace(/[/.]/g, '\\$&')), `${name} names the folder`);
    }
    const started: string[] = [];
    for await (const info of env.client.workflow.list()) started.push(info.workflowId);
    assert.ok(!started.some((id) => id.startsWith('bad-')), `started: ${started.join(', ')}`);
  });
});

/** A well-formed SAELens folder (cfg.json + weights) of the given architecture and width. */
async function saeLensFolder(dir: string, architecture: string, dIn: number): Promise<void> {
  const dSae = 16;
  const tensor = (rows: number, cols?: number) => ({ data: new Float32Array(rows * (cols ?? 1)).fill(0.01), shape: cols ? [rows, cols] : [rows] });
  await writeSafetensors(join(dir, 'sae_weights.safetensors'), { W_enc: tensor(dIn, dSae), W_dec: tensor(dSae, dIn), b_enc: tensor(dSae), b_dec: tensor(dIn) });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture, d_in: dIn, d_sae: dSae, dtype: 'float32', apply_b_dec_to_input: true, normalize_activations: 'none', metadata: { hook_name: 'blocks.1.hook_resid_post' } }));
}

function flatten(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) out[prefix] = value;
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}
