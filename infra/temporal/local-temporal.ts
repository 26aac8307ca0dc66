/**
 * A throwaway Temporal dev server for benchmarks and fixture recorders: a free loopback port, no
 * UI, SQLite under the given data directory, and a connected client. Workers are the caller's
 * (in-process or child processes); `close()` stops the client and the server.
 */
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TemporalTarget } from './connection.js';
import { freePort, startDevServer } from './dev-server.js';

export interface LocalTemporal {
  target: TemporalTarget;
  client: Client;
  close(): Promise<void>;
}

export async function startLocalTemporal(dataDir: string): Promise<LocalTemporal> {
  const server = await startDevServer({ ip: '127.0.0.1', port: await freePort(), uiPort: null, dbFile: join(dataDir, 'temporal.sqlite'), namespace: 'default' });
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: server.address });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    target: { address: server.address, namespace: 'default', tls: false, apiKeySource: null },
    client: new Client({ connection }),
    async close() {
      await connection.close();
      await server.stop();
    },
  };
}
