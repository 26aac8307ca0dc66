/** `tsae dev`: the embedded dev server serves the Web UI on 127.0.0.1:8233 and Ctrl-C stops it cleanly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { portOpen } from '../../infra/temporal/dev-server.js';
import { projectPath } from '../../lib/core/package-root.js';
import { waitFor } from '../helpers/temporal-env.js';

test('tsae dev serves the Web UI at 127.0.0.1:8233 and stops cleanly on SIGINT', { timeout: 120_000 }, async (t) => {
  if ((await portOpen('127.0.0.1', 7233)) || (await portOpen('127.0.0.1', 8233))) {
    t.skip('ports 7233/8233 are taken by another Temporal server on this machine');
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tsae-dev-'));
  const child = spawn(process.execPath, [projectPath('bin', 'tsae.js'), 'dev', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const html = await waitFor('the Web UI', async () => {
      const response = await fetch('http://127.0.0.1:8233/').catch(() => null);
      return response?.ok ? await response.text() : undefined;
    }, 60_000);
    assert.match(html, /<!doctype html>/i);
    // The Temporal Web UI is a SvelteKit app: its index loads the /_app/immutable bundles.
    assert.match(html, /\/_app\/immutable\//);
    const settings = await fetch('http://127.0.0.1:8233/api/v1/settings');
    assert.equal(settings.ok, true, 'the UI server does not answer its API');
    await waitFor('the worker', async () => (output.includes('worker started') ? true : undefined), 60_000);
    // Bound to loopback only: not reachable on the machine's other addresses.
    for (const address of externalAddresses()) {
      assert.equal(await portOpen(address, 7233), false, `the gRPC port answers on ${address}`);
      assert.equal(await portOpen(address, 8233), false, `the Web UI answers on ${address}`);
    }
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, output);
  assert.equal(await portOpen('127.0.0.1', 7233), false, 'the dev server is still listening after Ctrl-C');
});

function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal)
    .map((i) => i!.address);
}
