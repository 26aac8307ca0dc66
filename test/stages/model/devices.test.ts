import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../helpers/paths.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { loadModelFolder } from '../../../stages/model/model-folder.js';
import { createPrefixRunner } from '../../../stages/model/prefix-runner.js';
import { availableDevices } from '../../../lib/onnx/backend.js';

test('a missing provider fails with DEVICE_UNAVAILABLE, the available devices and the CUDA how-to', async (t) => {
  if (availableDevices().includes('cuda')) return t.skip('this machine has the CUDA provider');
  const folder = await loadModelFolder(fixturePath('model', 'llama'));
  const graphDir = await mkdtemp(join(tmpdir(), 'tsae-device-'));
  try {
    await assert.rejects(
      createPrefixRunner({ folder, layer: 0, dtype: 'float32', device: 'cuda', graphDir }),
      (error: unknown) =>
        error instanceof TsaeError &&
        error.code === 'DEVICE_UNAVAILABLE' &&
        error.retryable === false &&
        /Available: cpu/.test(error.message) &&
        /tsae gpu setup/.test(error.message),
    );
  } finally {
    await rm(graphDir, { recursive: true, force: true });
  }
});
