import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivationTable } from '../../../schemas/activation-shard.js';
import { excludeNormOutliers, normOutlierDeviation, trainingNormCut } from '../../../stages/evaluate/norm-outliers.js';

function table(rows: number[][], special: number[]): ActivationTable {
  const d = rows[0].length;
  return {
    count: rows.length,
    dModel: d,
    values: Float32Array.from(rows.flat()),
    isSpecial: Uint8Array.from(special),
  } as unknown as ActivationTable;
}

test('tokens above the cut are marked like special tokens; the input table is not changed', () => {
  // norms: 5, 1, 13, 13 (the last already special)
  const t = table([[3, 4], [1, 0], [5, 12], [12, 5]], [0, 0, 0, 1]);
  const { table: out, excluded } = excludeNormOutliers(t, 6);
  assert.equal(excluded, 1, 'only the non-special token above the cut counts');
  assert.deepEqual(Array.from(out.isSpecial), [0, 0, 1, 1]);
  assert.deepEqual(Array.from(t.isSpecial), [0, 0, 0, 1]);
  assert.equal(out.values, t.values, 'values are shared');
  assert.equal(excludeNormOutliers(t, 5).excluded, 1, 'a norm equal to the cut is kept (training keeps norm <= cut)');
});

test('float16 shards are decoded before the norm', () => {
  // 0x4500 = 5, 0x3c00 = 1
  const t = { count: 2, dModel: 1, values: Uint16Array.of(0x4500, 0x3c00), isSpecial: new Uint8Array(2) } as unknown as ActivationTable;
  assert.deepEqual(Array.from(excludeNormOutliers(t, 2).table.isSpecial), [1, 0]);
});

test("the cut comes from the SAE's cfg.json metadata; none when absent or unreadable", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-cut-'));
  try {
    assert.equal(await trainingNormCut(dir), null);
    await writeFile(join(dir, 'cfg.json'), JSON.stringify({ metadata: { max_activation_norm: 15740.9 } }));
    assert.equal(await trainingNormCut(dir), 15740.9);
    await writeFile(join(dir, 'cfg.json'), JSON.stringify({ metadata: { max_activation_norm: null } }));
    assert.equal(await trainingNormCut(dir), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.match(normOutlierDeviation(3, 15740.9, 20480), /^norm_outliers_excluded: 3 of 20480 held-out tokens .* 15740\.9 /);
});
