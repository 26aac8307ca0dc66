/**
 * `tsae dev`: the embedded dev server serves the Web UI on 127.0.0.1 (8233 by default) and
 * Ctrl-C stops it cleanly. On the default ports when they are free; when another Temporal server
 * holds them (a developer's own `tsae dev`, a shared machine), on free ports given with --port and
 * --ui-port, so the test runs everywhere instead of skipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { freePort, portOpen } from '../../infra/temporal/dev-server.js';
import { projectPath } from '../../lib/core/package-root.js';
import { waitFor } from '../helpers/temporal-env.js';

const TSAE = projectPath('bin', 'tsae.js');

test('tsae dev defaults to the gRPC port 7233 and the Web UI on 127.0.0.1:8233', () => {
  const help = execFileSync(process.execPath, [TSAE, 'dev', '--help'], { encoding: 'utf8' });
  assert.match(help, /--ip <ip>\s+.*\(default: "127\.0\.0\.1"\)/);
  assert.match(help, /--port <port>\s+.*\(default: 7233\)/);
  assert.match(help, /--ui-port <port>\s+.*\(default: 8233\)/);
});

test('tsae dev serves the Web UI on 127.0.0.1 and stops cleanly on SIGINT', { timeout: 120_000 }, async (t) => {
  const defaultsFree = !(await portOpen('127.0.0.1', 7233)) && !(await portOpen('127.0.0.1', 8233));
  const [port, uiPort] = defaultsFree ? [7233, 8233] : await twoFreePorts();
  if (!defaultsFree) t.diagnostic(`7233/8233 are taken by another server here: using ${port}/${uiPort}`);
  const portArgs = defaultsFree ? [] : ['--port', String(port), '--ui-port', String(uiPort)];
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-dev-'));
  const child = spawn(process.execPath, [TSAE, 'dev', '--data-dir', dataDir, ...portArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const html = await waitFor('the Web UI', async () => {
      const response = await fetch(`http://127.0.0.1:${uiPort}/`).catch(() => null);
      return response?.ok ? await response.text() : undefined;
    }, 60_000);
    assert.match(html, /<!doctype html>/i);
    // The Temporal Web UI is a SvelteKit app: its index loads the /_app/immutable bundles.
    assert.match(html, /\/_app\/immutable\//);
    const settings = await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`);
    assert.equal(settings.ok, true, 'the UI server does not answer its API');
    await waitFor('the worker', async () => (output.includes('worker started') ? true : undefined), 60_000);
    // Bound to loopback only: not reachable on the machine's other addresses.
    for (const address of externalAddresses()) {
      assert.equal(await portOpen(address, port), false, `the gRPC port answers on ${address}`);
      assert.equal(await portOpen(address, uiPort), false, `the Web UI answers on ${address}`);
    }
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, output);
  assert.equal(await portOpen('127.0.0.1', port), false, 'the dev server is still listening after Ctrl-C');
});

function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
}

async function twoFreePorts(): Promise<[number, number]> {
  const port = await freePort();
  let uiPort = await freePort();
  while (uiPort === port) uiPort = await freePort();
  return [port, uiPort];
}
