import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsaeError } from '../../../lib/core/errors.js';
import type { CorpusRecord } from '../../../stages/corpus/corpus-record.js';
import { readJsonlRecords } from '../../../stages/corpus/read-jsonl.js';
import { SkipLog } from '../../../stages/corpus/skip-log.js';

const scratchRoot = await mkdtemp(join(tmpdir(), 'tsae-test-'));
after(() => rm(scratchRoot, { recursive: true, force: true }));

const zstd = createRequire(import.meta.url)('zstd-napi') as { compress(data: Uint8Array, p?: { compressionLevel?: number }): Buffer };

/** One line per bad-input case of issue 3 item 6, between good lines; line numbers are 1-based. */
function badCorpusBytes(): Buffer {
  const good = (t: string) => JSON.stringify({ text: t, meta: { pile_set_name: 'Test' } });
  const lines: Buffer[] = [
    Buffer.from(good('first good document')), // 1
    Buffer.from('{"text": "unterminated'), // 2 malformed-json
    Buffer.from(JSON.stringify({ meta: { pile_set_name: 'Test' } })), // 3 missing-text
    Buffer.from(JSON.stringify({ text: 42 })), // 4 non-string-text
    Buffer.concat([Buffer.from('{"text": "bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), // 5 invalid-utf8
    Buffer.from(good('')), // 6 empty-text
    Buffer.from(good('   \n\t ')), // 7 empty-text (whitespace only)
    Buffer.from(good('x'.repeat(101))), // 8 too-long (limit 100 below)
    Buffer.from(''), // 9 blank-line
    Buffer.from('{"text": "lone \\ud800 surrogate"}'), // 10 lone-surrogate
    Buffer.from('[1, 2, 3]'), // 11 malformed-json (not an object)
    Buffer.from(good('last good document')), // 12
  ];
  return Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
}

async function collect(path: string, relPath: string, skips: SkipLog, compressed = false): Promise<CorpusRecord[]> {
  const out: CorpusRecord[] = [];
  for await (const r of readJsonlRecords({ path, relPath, compressed, textField: 'text', metaField: 'meta', maxDocChars: 100, skips })) out.push(r);
  return out;
}

test('skip policy: every bad-input case is counted and located by file:line', async () => {
  const dir = await mkdtemp(join(scratchRoot, 'bad-'));
  for (const [name, compressed] of [['bad.jsonl', false], ['bad.jsonl.zst', true]] as const) {
    const bytes = badCorpusBytes();
    await writeFile(join(dir, name), compressed ? zstd.compress(bytes) : bytes);
    const skips = new SkipLog('skip');
    const records = await collect(join(dir, name), name, skips, compressed);
    assert.deepEqual(records.map((r) => [r.text, r.line, r.location]), [
      ['first good document', 1, `${name}:1`],
      ['last good document', 12, `${name}:12`],
    ]);
    assert.deepEqual(skips.toJSON(), {
      'blank-line': { count: 1, locations: [`${name}:9`], truncated: false },
      'empty-text': { count: 2, locations: [`${name}:6`, `${name}:7`], truncated: false },
      'invalid-utf8': { count: 1, locations: [`${name}:5`], truncated: false },
      'lone-surrogate': { count: 1, locations: [`${name}:10`], truncated: false },
      'malformed-json': { count: 2, locations: [`${name}:2`, `${name}:11`], truncated: false },
      'missing-text': { count: 1, locations: [`${name}:3`], truncated: false },
      'non-string-text': { count: 1, locations: [`${name}:4`], truncated: false },
      'too-long': { count: 1, locations: [`${name}:8`], truncated: false },
    });
    assert.equal(skips.total, 10);
    assert.equal(records[1].byteOffset, bytes.lastIndexOf(Buffer.from('{"text":"last')));
  }
});

test('fail policy: the first bad record stops the read with BAD_INPUT naming file:line and reason', async () => {
  const dir = await mkdtemp(join(scratchRoot, 'bad-'));
  await writeFile(join(dir, 'bad.jsonl'), badCorpusBytes());
  await assert.rejects(collect(join(dir, 'bad.jsonl'), 'bad.jsonl', new SkipLog('fail')), (error: unknown) => {
    assert.ok(error instanceof TsaeError);
    assert.equal(error.code, 'BAD_INPUT');
    assert.equal(error.retryable, false);
    assert.match(error.message, /bad\.jsonl:2: malformed-json/);
    assert.deepEqual(error.details, { location: 'bad.jsonl:2', reason: 'malformed-json' });
    return true;
  });
});

test('a truncated .zst fails naming the file and the byte offset where it ends', async () => {
  const dir = await mkdtemp(join(scratchRoot, 'zst-'));
  const full = zstd.compress(Buffer.from(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ text: `doc ${i} ` + 'w'.repeat(i % 50) })).join('\n') + '\n'));
  const cut = full.subarray(0, Math.floor(full.length / 2));
  const path = join(dir, 'cut.jsonl.zst');
  await writeFile(path, cut);
  await assert.rejects(collect(path, 'cut.jsonl.zst', new SkipLog('skip'), true), (error: unknown) => {
    assert.ok(error instanceof TsaeError && error.code === 'BAD_INPUT' && !error.retryable);
    assert.ok(error.message.includes(path), error.message);
    assert.match(error.message, new RegExp(`ends at byte ${cut.length} inside the frame that starts at byte 0`));
    assert.equal(error.details.byteOffset, cut.length);
    return true;
  });
});

test('a corrupt .zst fails naming the file and the compressed byte offset', async () => {
  const dir = await mkdtemp(join(scratchRoot, 'zst-'));
  const good = zstd.compress(Buffer.from('{"text":"a"}\n'));
  // Two frames: a valid one, then garbage where the second frame's magic number should be.
  const bytes = Buffer.concat([good, Buffer.from('this is not zstd at all, just text')]);
  const path = join(dir, 'bad.jsonl.zst');
  await writeFile(path, bytes);
  const skips = new SkipLog('skip');
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const r of readJsonlRecords({ path, relPath: 'bad.jsonl.zst', compressed: true, textField: 'text', metaField: 'meta', maxDocChars: 100, skips })) seen.push(r.text);
    })(),
    (error: unknown) => {
      assert.ok(error instanceof TsaeError && error.code === 'BAD_INPUT');
      assert.ok(error.message.includes(path));
      assert.match(error.message, new RegExp(`at compressed byte offset ${good.length} \\(frame starting at byte ${good.length}\\)`));
      assert.equal(error.details.byteOffset, good.length);
      return true;
    },
  );
});
