import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, sha256File, writeFileAtomic } from '../../../lib/core/atomic-fs.js';

test('writeFileAtomic leaves only the target file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-atomic-'));
  await writeFileAtomic(join(dir, 'a.txt'), 'hello');
  assert.equal(await readFile(join(dir, 'a.txt'), 'utf8'), 'hello');
  assert.deepEqual(await readdir(dir), ['a.txt']);
  assert.equal(await sha256File(join(dir, 'a.txt')), '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
});

test('canonicalJson sorts keys at every depth and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
});
