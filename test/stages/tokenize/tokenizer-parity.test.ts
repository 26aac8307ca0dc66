import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsaeError } from '../../../lib/core/errors.js';
import { sha256Hex } from '../../../lib/core/atomic-fs.js';
import { loadTokenizer, tokenizerFolder } from '../../../stages/tokenize/load-tokenizer.js';
import { fixturePath } from '../../helpers/paths.js';

const scratchRoot = await mkdtemp(join(tmpdir(), 'tsae-test-'));
after(() => rm(scratchRoot, { recursive: true, force: true }));

interface ParityCase {
  category: string;
  text: string;
  addSpecialTokens?: boolean;
  gemma2: number[];
  gemma3: number[];
}
interface ParityFixture {
  tokenizersVersion: string;
  tokenizerSha256: Record<string, string>;
  cases: ParityCase[];
}

const fixture = JSON.parse(await readFile(fixturePath('tokenizer', 'parity-cases.json'), 'utf8')) as ParityFixture;

test('the parity fixture has >= 1,000 varied strings', () => {
  assert.ok(fixture.cases.length >= 1000, `only ${fixture.cases.length} cases`);
  const categories = new Set(fixture.cases.map((c) => c.category));
  for (const c of ['unicode', 'whitespace', 'code', 'emoji', 'long-word', 'corpus-slice']) assert.ok(categories.has(c), c);
});

for (const kind of ['gemma2', 'gemma3'] as const) {
  test(`${kind}: ids equal Hugging Face tokenizers on every fixture string (fast path and whole-text path)`, async () => {
    const tok = await loadTokenizer({ kind });
    const jsonText = await readFile(join(tokenizerFolder({ kind }), 'tokenizer.json'), 'utf8');
    assert.equal(sha256Hex(jsonText), fixture.tokenizerSha256[kind], 'fixture was made from another tokenizer.json');
    assert.equal(tok.fastSplit, true, 'Gemma tokenizers qualify for the piecewise fast path');
    const mismatches: string[] = [];
    for (const [i, c] of fixture.cases.entries()) {
      const prefix = c.addSpecialTokens && tok.addBos ? [tok.bosId!] : [];
      const fast = [...prefix, ...tok.encode(c.text)];
      const whole = [...prefix, ...tok.encodeWhole(c.text)];
      if (JSON.stringify(fast) !== JSON.stringify(c[kind])) mismatches.push(`#${i} ${c.category} fast ${JSON.stringify(c.text.slice(0, 40))}`);
      if (JSON.stringify(whole) !== JSON.stringify(c[kind])) mismatches.push(`#${i} ${c.category} whole ${JSON.stringify(c.text.slice(0, 40))}`);
    }
    assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} mismatches`);
  });
}

test('gemma2 metadata: vocab 256,000, BOS 2 expected first, EOS 1, specials flagged', async () => {
  const tok = await loadTokenizer({ kind: 'gemma2' });
  assert.equal(tok.vocabSize, 256000);
  assert.equal(tok.bosId, 2);
  assert.equal(tok.eosId, 1);
  assert.equal(tok.addBos, true);
  for (const id of [0, 1, 2, 3]) assert.ok(tok.specialIds.has(id), `special ${id}`);
  assert.ok(!tok.specialIds.has(4521), 'an ordinary word is not special');
  assert.deepEqual([...tok.encode('Hello world')], [4521, 2134]);
});

test('a model folder with tokenizer.json loads; a folder without the files is BAD_CONFIG naming what is missing', async () => {
  const folder = tokenizerFolder({ kind: 'gemma3' });
  const tok = await loadTokenizer({ kind: 'folder', path: folder });
  assert.equal(tok.name, folder);
  // 262,144 vocabulary entries plus the added <image_soft_token> at id 262,144.
  assert.equal(tok.vocabSize, 262145);
  assert.equal(tok.bosId, 2);
  const empty = await mkdtemp(join(scratchRoot, 'tokdir-'));
  await writeFile(join(empty, 'tokenizer.json'), '{}');
  await assert.rejects(loadTokenizer({ kind: 'folder', path: empty }), (e: unknown) => e instanceof TsaeError && e.code === 'BAD_CONFIG' && /tokenizer_config\.json/.test(e.message));
});
