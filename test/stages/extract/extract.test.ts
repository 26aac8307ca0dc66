import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../helpers/paths.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { extractActivations, type ExtractInput } from '../../../stages/extract/extract.js';
import { readActivationShard } from '../../../stages/extract/activation-shard-io.js';
import { halfToFloat } from '../../../lib/core/half.js';
import { loadModelFolder } from '../../../stages/model/model-folder.js';
import { createPrefixRunner } from '../../../stages/model/prefix-runner.js';
import { iterate, makeTokenRows } from './token-rows.js';

const MODEL = fixturePath('model', 'gemma3');
const LAYER = 1;

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-extract-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function input(rows: ReturnType<typeof makeTokenRows>, graphDir: string, over: Partial<ExtractInput> = {}): ExtractInput {
  return {
    modelDir: MODEL,
    layer: LAYER,
    rows: iterate(rows),
    totalRows: rows.length,
    dtype: 'float32',
    batchSize: 3,
    device: 'cpu',
    rowsPerPart: 4,
    graphDir,
    ...over,
  };
}

async function readAll(outDir: string, files: string[]) {
  return Promise.all(files.map((f) => readActivationShard(join(outDir, f))));
}

test('batched, padded extraction equals the prefix run row by row; columns follow the contract', async () => {
  await withTmp(async (tmp) => {
    const rows = makeTokenRows(10, 259);
    const out = join(tmp, 'out');
    const summary = await extractActivations(input(rows, tmp), out, defaultStageContext());
    assert.equal(summary.rows, 10);
    assert.equal(summary.parts.length, 3);
    assert.equal(summary.tokens, rows.reduce((a, r) => a + r.inputIds.length, 0));
    assert.equal(summary.specialTokens, 10);
    assert.equal(summary.hookName, 'blocks.1.hook_resid_post');
    const shards = await readAll(out, summary.parts.map((p) => p.file));
    const folder = await loadModelFolder(MODEL);
    const runner = await createPrefixRunner({ folder, layer: LAYER, dtype: 'float32', device: 'cpu', graphDir: tmp });
    const d = folder.meta.dModel;
    let r = 0;
    for (const shard of shards) {
      let at = 0;
      while (at < shard.count) {
        const row = rows[r++];
        const alone = (await runner.run(row.inputIds, 1, row.inputIds.length)) as Float32Array;
        for (let p = 0; p < row.inputIds.length; p++, at++) {
          assert.equal(shard.rowIds[at], row.rowId);
          assert.equal(shard.positions[at], p);
          assert.equal(shard.tokenIds[at], row.inputIds[p]);
          assert.equal(shard.isSpecial[at], row.specialMask[p]);
          const doc = p >= row.docStarts[1] ? 1 : 0;
          assert.equal(shard.docIndex[at], doc);
          assert.equal(shard.docIds[at], row.docIds[doc]);
          assert.equal(shard.sourceSets[at], row.sourceSets[doc]);
          for (let k = 0; k < d; k++) {
            const want = alone[p * d + k];
            assert.ok(Math.abs(shard.values[at * d + k] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `row ${row.rowId} pos ${p}`);
          }
        }
      }
    }
    assert.equal(r, rows.length);
    await runner.dispose();
  });
});

test('float16 storage is the float32 activation rounded inside the graph', async () => {
  await withTmp(async (tmp) => {
    const rows = makeTokenRows(4, 259);
    const s32 = await extractActivations(input(rows, tmp), join(tmp, 'f32'), defaultStageContext());
    const s16 = await extractActivations(input(rows, tmp, { dtype: 'float16' }), join(tmp, 'f16'), defaultStageContext());
    const [a] = await readAll(join(tmp, 'f32'), [s32.parts[0].file]);
    const [b] = await readAll(join(tmp, 'f16'), [s16.parts[0].file]);
    assert.equal(b.dtype, 'float16');
    assert.ok(b.values instanceof Uint16Array);
    for (let i = 0; i < a.values.length; i++) {
      const x = a.values[i];
      assert.ok(Math.abs(halfToFloat(b.values[i]) - x) <= 1e-3 * Math.abs(x) + 1e-7, `value ${i}`);
    }
  });
});

test('an aborted extraction resumes after its last part and ends byte-identical', async () => {
  await withTmp(async (tmp) => {
    const rows = makeTokenRows(11, 259);
    const straight = await extractActivations(input(rows, tmp), join(tmp, 'a'), defaultStageContext());
    const controller = new AbortController();
    const ctx = defaultStageContext({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 5) controller.abort(new Error('killed'));
      },
    });
    await assert.rejects(extractActivations(input(rows, tmp), join(tmp, 'b'), ctx), /killed/);
    const progress = JSON.parse(await readFile(join(tmp, 'b', 'extract-progress.json'), 'utf8'));
    assert.equal(progress.parts.length, 1);
    const resumed = await extractActivations(input(rows, tmp), join(tmp, 'b'), defaultStageContext());
    assert.equal(resumed.resumedFromRows, 4);
    assert.deepEqual(resumed.parts, straight.parts);
    for (const p of straight.parts) {
      assert.deepEqual(await readFile(join(tmp, 'b', p.file)), await readFile(join(tmp, 'a', p.file)), p.file);
    }
  });
});

test('a progress file of an earlier version is discarded with its parts; a matching one resumes without its extra fields', async () => {
  await withTmp(async (tmp) => {
    const rows = makeTokenRows(11, 259);
    const straight = await extractActivations(input(rows, tmp), join(tmp, 'a'), defaultStageContext());
    // Earlier versions wrote a scaleFactor and hashed the scaling settings into the fingerprint.
    const stale = join(tmp, 'stale');
    await mkdir(stale);
    await writeFile(join(stale, 'part-00000.arrow'), 'not an arrow file');
    const old = { fingerprint: 'f'.repeat(64), scaleFactor: 2.5, parts: [{ file: 'part-00000.arrow', rows: 4, tokens: 9, bytes: 17 }], rows: 4, tokens: 9, specialTokens: 4 };
    await writeFile(join(stale, 'extract-progress.json'), JSON.stringify(old));
    const fresh = await extractActivations(input(rows, tmp), stale, defaultStageContext());
    assert.equal(fresh.resumedFromRows, 0);
    assert.deepEqual(fresh.parts, straight.parts);
    for (const p of straight.parts) assert.deepEqual(await readFile(join(stale, p.file)), await readFile(join(tmp, 'a', p.file)), p.file);
    // Same settings, an unknown field: resumed after the recorded part, the field not carried on.
    const controller = new AbortController();
    const ctx = defaultStageContext({ signal: controller.signal, onProgress: (p) => (p.done >= 5 ? controller.abort(new Error('killed')) : undefined) });
    await assert.rejects(extractActivations(input(rows, tmp), join(tmp, 'b'), ctx), /killed/);
    const progressFile = join(tmp, 'b', 'extract-progress.json');
    await writeFile(progressFile, JSON.stringify({ ...JSON.parse(await readFile(progressFile, 'utf8')), scaleFactor: 1 }));
    const resumed = await extractActivations(input(rows, tmp), join(tmp, 'b'), defaultStageContext());
    assert.equal(resumed.resumedFromRows, 4);
    assert.deepEqual(resumed.parts, straight.parts);
    assert.equal('scaleFactor' in JSON.parse(await readFile(progressFile, 'utf8')), false);
    assert.equal('scaleFactor' in resumed, false);
  });
});
