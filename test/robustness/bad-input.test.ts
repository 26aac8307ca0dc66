/**
 * Issue 8's bad-input corpus: broken files of every kind the pipeline reads end in a clear error
 * naming the file (or a counted skip), never a crash or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { TsaeError } from '../../lib/core/errors.js';
import { defaultStageContext } from '../../lib/core/context.js';
import { planCorpusShards } from '../../stages/corpus/plan-shards.js';
import { readActivationShard, writeActivationShard } from '../../stages/extract/activation-shard-io.js';
import { concatActivationTables } from '../../stages/extract/concat-tables.js';
import { validateActivations } from '../../stages/extract/validate-activations.js';
import { readTokenShard } from '../../stages/tokenize/token-shard.js';
import { trainSae } from '../../stages/train/train-sae.js';
import { TrainConfig } from '../../schemas/train.js';
import { fixturePath } from '../helpers/paths.js';
import { trainDataFromFiles } from '../../stages/extract/activation-sets.js';

function table(count: number, dModel: number, fill = (i: number) => Math.sin(i)): ActivationTable & { docIds: string[] } {
  const values = new Float32Array(count * dModel).map((_, i) => fill(i));
  return {
    dModel, dtype: 'float32', count, values,
    tokenIds: new Int32Array(count), rowIds: new Int32Array(count), positions: Int32Array.from({ length: count }, (_, i) => i),
    docIndex: new Int32Array(count), isSpecial: new Uint8Array(count), sourceSets: Array(count).fill('s'), docIds: Array(count).fill('d'),
  };
}

const isTsae = (code: string, pattern: RegExp) => (error: unknown) => error instanceof TsaeError && error.code === code && pattern.test(error.message);

test('a Parquet corpus file without a readable footer: planning fails naming it and the byte under fail, plans it whole under skip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-bad-'));
  const good = await readFile(fixturePath('corpus', 'pile-sample.parquet'));
  await writeFile(join(dir, 'broken.parquet'), good.subarray(0, good.length - 20));
  const footerAt = good.length - 20 - 8;
  await assert.rejects(
    planCorpusShards({ path: dir, badInput: 'fail' }),
    isTsae('BAD_INPUT', new RegExp(`broken\\.parquet is not a readable Parquet corpus file: its footer at byte ${footerAt}`)),
  );
  const plans = await planCorpusShards({ path: dir, badInput: 'skip' });
  assert.deepEqual(plans.map((p) => [p.id, p.rowStart, p.rowEnd]), [['broken.parquet', undefined, undefined]]);
});

test('a corrupt token shard is reported as a corrupt artifact naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-bad-'));
  await writeFile(join(dir, 'tokens-00000.parquet'), 'PAR1 this is not parquet PAR1');
  const read = async () => {
    for await (const _row of readTokenShard(join(dir, 'tokens-00000.parquet'))) void _row;
  };
  await assert.rejects(read(), isTsae('CORRUPT_ARTIFACT', /tokens-00000\.parquet is not a readable Parquet token shard/));
});

test('a corrupt or truncated Arrow activation shard fails naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-bad-'));
  await writeFile(join(dir, 'garbage.arrow'), 'definitely not arrow');
  await assert.rejects(readActivationShard(join(dir, 'garbage.arrow')), isTsae('CORRUPT_ARTIFACT', /garbage\.arrow is not an Arrow IPC file/));
  const path = join(dir, 'part.arrow');
  await writeActivationShard(path, table(16, 8));
  const bytes = await readFile(path);
  await writeFile(join(dir, 'truncated.arrow'), bytes.subarray(0, bytes.length / 2));
  await assert.rejects(readActivationShard(join(dir, 'truncated.arrow')), (e: unknown) => e instanceof TsaeError && /truncated\.arrow/.test(e.message));
});

test('activations of the wrong width are rejected naming the file and both widths', () => {
  assert.throws(() => validateActivations(table(4, 8), 'part-3.arrow', 16), isTsae('BAD_INPUT', /part-3\.arrow: activations have d_model 8, expected 16/));
  assert.throws(() => concatActivationTables([table(4, 8), table(4, 16)]), isTsae('BAD_INPUT', /table 1 has d_model 16/));
});

test('NaN and Inf activations are rejected with file, row and column; special rows may overflow', () => {
  const withNan = table(5, 4);
  withNan.values[2 * 4 + 3] = NaN;
  assert.throws(() => validateActivations(withNan, 'a.arrow'), isTsae('BAD_INPUT', /a\.arrow: non-finite activation \(NaN or Inf\) at row 2 .*column 3/));
  const half = { ...table(3, 2), dtype: 'float16' as const, values: new Uint16Array([0x3c00, 0x3c00, 0x7c00, 0x3c00, 0x3c00, 0x3c00]) };
  assert.throws(() => validateActivations(half, 'h.arrow'), isTsae('BAD_INPUT', /row 1 .*column 0/));
  half.isSpecial[1] = 1; // a BOS residual that overflowed float16 is excluded everywhere anyway
  assert.doesNotThrow(() => validateActivations(half, 'h.arrow'));
});

test('training on shards of different widths fails fast, naming the shard, instead of crashing in onnxruntime', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsae-bad-'));
  const files = [join(dir, 'part-0.arrow'), join(dir, 'part-1.arrow')];
  await writeActivationShard(files[0], table(64, 8));
  await writeActivationShard(files[1], table(64, 12));
  const config = TrainConfig.parse({ variant: 'standard', dSae: 32, steps: 12, batchSize: 16, warmupSteps: 0, checkpointEvery: 4, initSampleTokens: 32 });
  await assert.rejects(
    trainSae({ data: trainDataFromFiles(files), config, seed: 0, device: 'cpu' }, join(dir, 'out'), defaultStageContext()),
    isTsae('BAD_INPUT', /part-1\.arrow: activations have d_model 12, expected 8/),
  );
});
