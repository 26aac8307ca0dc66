import { resolve } from 'node:path';
import type { Command } from 'commander';
import { TsaeError } from '../../../lib/core/errors.js';
import { createJsonLogger, type Logger, type LogLevel } from '../../../lib/core/logger.js';
import { Client } from '@temporalio/client';
import { connectClient, targetFromEnv, type TemporalTarget } from '../../temporal/connection.js';

/** A usage or validation error: the CLI prints it and exits with code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface GlobalOptions {
  dataDir: string;
  address?: string;
  namespace?: string;
  logLevel: LogLevel;
  json: boolean;
}

/** Options every command accepts, read from the root program. */
export function globalOptions(command: Command): GlobalOptions {
  const root = rootOf(command).opts<{ dataDir?: string; address?: string; namespace?: string; logLevel?: LogLevel; json?: boolean }>();
  return {
    dataDir: resolve(root.dataDir ?? process.env.TSAE_DATA_DIR ?? '.tsae'),
    address: root.address,
    namespace: root.namespace,
    logLevel: root.logLevel ?? 'info',
    json: Boolean(root.json) || !process.stdout.isTTY,
  };
}

function rootOf(command: Command): Command {
  let current = command;
  while (current.parent) current = current.parent;
  return current;
}

export function targetOf(options: GlobalOptions): TemporalTarget {
  return targetFromEnv({ address: options.address, namespace: options.namespace });
}

export function loggerOf(options: GlobalOptions, bindings: Record<string, unknown> = {}): Logger {
  return createJsonLogger(options.logLevel, undefined, bindings);
}

/** Maps an error to the documented exit code: 2 for usage/validation, 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof TsaeError && error.code === 'BAD_CONFIG') return EXIT.usage;
  return EXIT.failure;
}

/** Prints a result: JSON for machines, `human` text on a terminal. */
export function printResult(options: GlobalOptions, value: unknown, human: () => string): void {
  process.stdout.write((options.json ? JSON.stringify(value) : human()) + '\n');
}

export function parseIntOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
    return n;
  };
}

/** Resolves on SIGINT/SIGTERM, aborting `controller` (Ctrl-C stops things cleanly). */
export function abortOnSignals(controller: AbortController): () => void {
  const handler = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Runs `fn` with a Temporal client for the global options' target, closing the connection after. */
export async function withClient<T>(global: GlobalOptions, fn: (client: Client) => Promise<T>): Promise<T> {
  const target = targetOf(global);
  const connection = await connectClient(target);
  try {
    return await fn(new Client({ connection, namespace: target.namespace }));
  } finally {
    await connection.close();
  }
}
