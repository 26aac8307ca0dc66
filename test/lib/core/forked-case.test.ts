/**
 * lib/core/forked-case.ts: a module forks itself for one case and gets the result over IPC. This
 * file is that module: forked with the flag it serves the case instead of declaring tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forkCase, serveForkedCase } from '../../../lib/core/forked-case.js';

const FLAG = '--forked-case-test';

async function runCase(value: { n: number }): Promise<{ doubled: number; pid: number }> {
  if (value.n < 0) throw new Error(`negative case ${value.n}`);
  return { doubled: value.n * 2, pid: process.pid };
}

function inChild(value: { n: number }): Promise<{ message: unknown; code: number | null; stderr: string }> {
  const child = forkCase(import.meta.url, FLAG, value, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  let message: unknown = null;
  child.on('message', (m) => (message = m));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ message, code, stderr })));
}

if (!serveForkedCase(FLAG, runCase)) {
  test('a forked case runs in its own process and sends its result back', async () => {
    const { message, code } = await inChild({ n: 21 });
    assert.equal(code, 0);
    const result = message as { doubled: number; pid: number };
    assert.equal(result.doubled, 42);
    assert.notEqual(result.pid, process.pid);
  });

  test('a case that throws exits 1 with its error on stderr and sends nothing', async () => {
    const { message, code, stderr } = await inChild({ n: -1 });
    assert.equal(code, 1);
    assert.equal(message, null);
    assert.match(stderr, /negative case -1/);
  });

  test('without the flag the module is not a case child', () => {
    assert.equal(serveForkedCase('--some-other-flag', runCase), false);
  });
}
