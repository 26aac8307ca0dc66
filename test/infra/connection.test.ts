import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ADDRESS, targetFromEnv, workflowUiUrl } from '../../infra/temporal/connection.js';
import { z } from 'zod';
import { RunSpecBase } from '../../schemas/run-spec.js';
import { TsaeError } from '../../lib/core/errors.js';

test('defaults: the local dev server on 127.0.0.1, no TLS, no key', () => {
  const target = targetFromEnv({}, {});
  assert.deepEqual(target, { address: DEFAULT_ADDRESS, namespace: 'default', tls: false, apiKeySource: null });
  assert.equal(DEFAULT_ADDRESS, '127.0.0.1:7233');
  assert.equal(workflowUiUrl(target, 'run-1', {}), 'http://127.0.0.1:8233/namespaces/default/workflows/run-1');
});

test('an API key is referenced by its source, never carried in the target (which may be logged)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-conn-'));
  await writeFile(join(dir, 'key'), 'sk-very-secret\n');
  const fromFile = targetFromEnv({}, { TEMPORAL_ADDRESS: 'ns.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns', TEMPORAL_API_KEY_FILE: join(dir, 'key') });
  assert.deepEqual(fromFile.apiKeySource, { file: join(dir, 'key') });
  assert.notEqual(fromFile.tls, false, 'an API key implies TLS');
  assert.doesNotMatch(JSON.stringify(fromFile), /sk-very-secret/);
  const fromEnv = targetFromEnv({}, { TEMPORAL_API_KEY: 'sk-very-secret' });
  assert.deepEqual(fromEnv.apiKeySource, { env: 'TEMPORAL_API_KEY' });
  assert.doesNotMatch(JSON.stringify(fromEnv), /sk-very-secret/);
});

test('mTLS needs both the certificate and the key', () => {
  const target = targetFromEnv({}, { TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/k.pem', TEMPORAL_TLS_SERVER_NAME: 'tmprl' });
  assert.deepEqual(target.tls, { clientCertPath: '/c.pem', clientKeyPath: '/k.pem', serverCaCertPath: undefined, serverName: 'tmprl' });
  assert.throws(() => targetFromEnv({}, { TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }), (e: unknown) => e instanceof TsaeError && /must be set together/.test(e.message));
});

test('the run spec (the workflow input) has no field for credentials', () => {
  const keys: string[] = [];
  const walk = (schema: Record<string, any>) => {
    for (const [key, value] of Object.entries(schema.properties ?? {})) {
      keys.push(key);
      walk((value as any).anyOf?.find((v: any) => v.properties) ?? value);
    }
  };
  walk(z.toJSONSchema(RunSpecBase, { io: 'input', unrepresentable: 'any' }) as Record<string, any>);
  assert.ok(keys.length > 50);
  assert.deepEqual(keys.filter((k) => /api.?key|secret|password|credential|tls|cert/i.test(k)), []);
});
