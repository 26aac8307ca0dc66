/**
 * Integration-test harness: a real Temporal dev server (headless, own port, own SQLite file),
 * workers and CLI commands run as child processes of the compiled `tsae` binary, so SIGKILL
 * and restarts are real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startDevServer, startLocalTemporal, type DevServerOptions, type LocalTemporal } from '../../infra/temporal/dev-server.js';
import { projectPath } from '../../lib/core/package-root.js';

export interface TestEnvironment {
  address: string;
  dataDir: string;
  dbFile: string;
  server: LocalTemporal;
  client: Client;
  connection: Connection;
  /** Environment for child processes (address, data dir, quiet logs). */
  env: NodeJS.ProcessEnv;
  /** Stops the server and starts it again on the same port and SQLite file, with a new client. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestEnvironment(options: { dataDir?: string } = {}): Promise<TestEnvironment> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tsae-it-')));
  const dbFile = join(dataDir, 'temporal', 'test.sqlite');
  // A fixed port across restarts, and never someone else's server on it.
  const serverOptions: DevServerOptions = { port: await freePort(), dbFile, logFile: join(dataDir, 'temporal-server.log'), reuse: false };
  const server = await startLocalTemporal(serverOptions);
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: server.address, TSAE_DATA_DIR: dataDir, TSAE_TEMPORAL_LOG_LEVEL: 'ERROR' };
  const environment: TestEnvironment = {
    address: server.address,
    dataDir,
    dbFile,
    server,
    client: server.client,
    connection: server.connection,
    env,
    async restartServer() {
      await environment.server.close();
      const next = await startLocalTemporal(serverOptions);
      Object.assign(environment, { server: next, connection: next.connection, client: next.client });
    },
    async close() {
      await environment.server.close();
      if (!options.dataDir && !process.env.TSAE_KEEP_TEST_DATA) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return environment;
}

export interface WorkflowTestServer {
  /** The SDK's test environment on a real dev server (search attributes registered). */
  env: TestWorkflowEnvironment;
  close(): Promise<void>;
}

/** A headless dev server in a fresh temporary directory, wrapped for in-process workflow tests. */
export async function startWorkflowTestServer(prefix: string): Promise<WorkflowTestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const server = await startDevServer({ dbFile: join(dataDir, 'temporal.sqlite') });
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
  return {
    env,
    async close() {
      await env.teardown();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = () => projectPath('bin', 'tsae.js');

/** Runs `tsae <args>` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN(), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsae ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker printed (JSON log lines). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `tsae worker` as a child process. */
export function startWorkerProcess(env: NodeJS.ProcessEnv, args: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [BIN(), 'worker', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
