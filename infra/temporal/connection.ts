import { uiBase, workflowUiPath } from '../../lib/core/ui-url.js';
import { readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { TsaeError } from '../../lib/core/errors.js';

/**
 * Where the Temporal frontend is and how to authenticate. Secrets (TLS keys, API keys) are
 * read from files or the environment here, in the client/worker process; they never enter
 * workflow inputs or history.
 *
 * Environment variables mirror the Temporal CLI's names:
 *   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_API_KEY_FILE (ours),
 *   TEMPORAL_TLS (true/false), TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,
 *   TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME.
 */
export interface TemporalTarget {
  address: string;
  namespace: string;
  tls: false | { clientCertPath?: string; clientKeyPath?: string; serverCaCertPath?: string; serverName?: string };
  /** Where the API key comes from (never the key itself, so targets can be logged). */
  apiKeySource: { env: string } | { file: string } | null;
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

export function targetFromEnv(overrides: { address?: string; namespace?: string } = {}, env = process.env): TemporalTarget {
  const clientCertPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const clientKeyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const serverCaCertPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const serverName = env.TEMPORAL_TLS_SERVER_NAME;
  const apiKeySource = env.TEMPORAL_API_KEY_FILE ? { file: env.TEMPORAL_API_KEY_FILE } : env.TEMPORAL_API_KEY ? { env: 'TEMPORAL_API_KEY' } : null;
  const tlsWanted = parseBool(env.TEMPORAL_TLS) ?? Boolean(clientCertPath || serverCaCertPath || apiKeySource);
  if (Boolean(clientCertPath) !== Boolean(clientKeyPath)) {
    throw new TsaeError('BAD_CONFIG', 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH must be set together (mTLS)');
  }
  return {
    address: overrides.address ?? env.TEMPORAL_ADDRESS ?? DEFAULT_ADDRESS,
    namespace: overrides.namespace ?? env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE,
    tls: tlsWanted ? { clientCertPath, clientKeyPath, serverCaCertPath, serverName } : false,
    apiKeySource,
  };
}

function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['1', 'true', 'yes'].includes(value.toLowerCase());
}

function readSecret(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TsaeError('BAD_CONFIG', `Cannot read ${what} at ${path}: ${(error as Error).message}`);
  }
}

function connectionSecrets(target: TemporalTarget) {
  const tls =
    target.tls === false
      ? undefined
      : {
          serverNameOverride: target.tls.serverName,
          serverRootCACertificate: target.tls.serverCaCertPath ? readSecret(target.tls.serverCaCertPath, 'server CA certificate') : undefined,
          clientCertPair:
            target.tls.clientCertPath && target.tls.clientKeyPath
              ? { crt: readSecret(target.tls.clientCertPath, 'client certificate'), key: readSecret(target.tls.clientKeyPath, 'client key') }
              : undefined,
        };
  let apiKey: string | undefined;
  if (target.apiKeySource && 'file' in target.apiKeySource) apiKey = readSecret(target.apiKeySource.file, 'API key').toString('utf8').trim();
  else if (target.apiKeySource) apiKey = process.env[target.apiKeySource.env];
  return { tls, apiKey };
}

export async function connectClient(target: TemporalTarget): Promise<Connection> {
  const { tls, apiKey } = connectionSecrets(target);
  const options: ConnectionOptions = { address: target.address, tls, apiKey, connectTimeout: 10_000 };
  try {
    return await Connection.connect(options);
  } catch (error) {
    throw new TsaeError('INTERNAL', `Cannot reach Temporal at ${target.address} (${(error as Error).message}). Is \`tsae dev\` running, or TEMPORAL_ADDRESS set?`, {
      cause: error,
    });
  }
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  const { tls, apiKey } = connectionSecrets(target);
  const options: NativeConnectionOptions = { address: target.address, tls, apiKey };
  return NativeConnection.connect(options);
}

/** Web UI link for a workflow (the dev server's UI, or TSAE_UI_URL for a cluster). */
export function workflowUiUrl(target: TemporalTarget, workflowId: string, env = process.env): string {
  return uiBase(target.address, env) + workflowUiPath(target.namespace, workflowId);
}
