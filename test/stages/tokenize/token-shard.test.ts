import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenRow } from '../../../schemas/token-shard.js';
import { setupPython } from '../../helpers/setup-python.js';
import { countTokenRows, encodeTokenShard, readTokenShard, writeTokenShard } from '../../../stages/tokenize/token-shard.js';

const scratchRoot = await mkdtemp(join(tmpdir(), 'tsae-test-'));
after(() => rm(scratchRoot, { recursive: true, force: true }));

function sampleRows(n: number): TokenRow[] {
  return Array.from({ length: n }, (_, i) => ({
    rowId: i,
    inputIds: Int32Array.from({ length: 1 + (i % 7) }, (_, j) => (i * 31 + j * 7919) % 256000),
    specialMask: Uint8Array.from({ length: 1 + (i % 7) }, (_, j) => (j === 0 ? 1 : 0)),
    docIds: i % 3 === 0 ? [`f.jsonl:${i}`, `f.jsonl:${i + 1}`] : [`f.jsonl:${i}`],
    docStarts: i % 3 === 0 ? [0, 1] : [0],
    docOffsets: i % 3 === 0 ? [i, 0] : [i],
    sourceSets: i % 3 === 0 ? ['Pile-CC', 'Github ü'] : ['Pile-CC'],
    split: (['train', 'val', 'test'] as const)[i % 3],
  }));
}

test('token shards round-trip through Parquet, streamed by row group, with byte-identical encoding', async () => {
  const dir = await mkdtemp(join(scratchRoot, 'shard-'));
  const rows = sampleRows(2500);
  const path = join(dir, 'tokens-00000.parquet');
  const written = await writeTokenShard(path, rows, { rowGroupRows: 1000 });
  assert.equal(written.bytes, (await readFile(path)).length);
  assert.deepEqual(encodeTokenShard(rows, 1000), new Uint8Array(await readFile(path)), 'same rows, same bytes');
  assert.equal(await countTokenRows(path), 2500);
  const back: TokenRow[] = [];
  for await (const row of readTokenShard(path)) back.push(row);
  assert.deepEqual(back, rows);
});

test('pyarrow reads token shards with the documented schema', async () => {
  const python = setupPython('pyarrow');
  const dir = await mkdtemp(join(scratchRoot, 'shard-'));
  const path = join(dir, 'tokens-00000.parquet');
  await writeTokenShard(path, sampleRows(10), { rowGroupRows: 4 });
  const script = [
    'import json, sys, pyarrow.parquet as pq',
    'f = pq.ParquetFile(sys.argv[1]); t = f.read()',
    'print(json.dumps({"schema": {n: str(t.schema.field(n).type) for n in t.schema.names}, "groups": f.metadata.num_row_groups, "row3": t.slice(3, 1).to_pylist()[0]}))',
  ].join('\n');
  const out = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const parsed = JSON.parse(out.stdout) as { schema: Record<string, string>; groups: number; row3: Record<string, unknown> };
  assert.deepEqual(parsed.schema, {
    row_id: 'int64',
    input_ids: 'list<element: int32 not null>',
    special_mask: 'list<element: bool not null>',
    doc_ids: 'list<element: string not null>',
    doc_starts: 'list<element: int32 not null>',
    doc_offsets: 'list<element: int32 not null>',
    source_sets: 'list<element: string not null>',
    split: 'string',
  });
  assert.equal(parsed.groups, 3);
  const r = sampleRows(10)[3];
  assert.deepEqual(parsed.row3, {
    row_id: 3, input_ids: Array.from(r.inputIds), special_mask: Array.from(r.specialMask, Boolean), doc_ids: r.docIds,
    doc_starts: r.docStarts, doc_offsets: r.docOffsets, source_sets: r.sourceSets, split: 'train',
  });
});
