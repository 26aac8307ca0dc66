import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDynamic, readSections, findSection } from '../../../infra/gpu/setup/elf.js';
import { readFatbin, slimFatbin } from '../../../infra/gpu/setup/fatbin.js';
import { ortBinaryDir } from '../../../lib/onnx/backend.js';
import { TsaeError } from '../../../lib/core/errors.js';
import { syntheticElf, syntheticFatbin } from './synthetic-elf.js';

function readelfNeeded(file: string): string[] | null {
  try {
    const text = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
    return [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  } catch {
    return null;
  }
}

test('readDynamic lists what readelf -d lists for the onnxruntime-node binding and runtime', () => {
  for (const name of ['onnxruntime_binding.node', 'libonnxruntime.so.1']) {
    const file = join(ortBinaryDir(), name);
    const dynamic = readDynamic(readFileSync(file), name);
    const reference = readelfNeeded(file);
    assert.ok(reference, 'readelf is missing: install Debian binutils (`npm test` does, in its pretest, when it can)');
    assert.deepEqual(dynamic.needed, reference, name);
    if (name === 'libonnxruntime.so.1') assert.equal(dynamic.soname, 'libonnxruntime.so.1');
    else assert.ok(dynamic.needed.includes('libonnxruntime.so.1'));
  }
});

test('readSections finds named sections; non-ELF input is rejected with the file name', () => {
  const elf = syntheticElf([{ name: '.text', bytes: Uint8Array.of(1, 2, 3) }, { name: '.nv_fatbin', bytes: new Uint8Array(24) }]);
  const names = readSections(elf).map((s) => s.name);
  assert.deepEqual(names, ['', '.text', '.nv_fatbin', '.shstrtab']);
  assert.equal(findSection(elf, '.nv_fatbin')!.size, 24);
  assert.throws(() => readSections(Uint8Array.of(1, 2, 3), 'x.so'), (e: unknown) => e instanceof TsaeError && /x\.so: not an ELF file/.test(e.message));
});

test('slimFatbin zeroes exactly the payloads of other architectures and keeps every header', () => {
  const fatbin = new Uint8Array([
    ...syntheticFatbin([{ arch: 80, fill: 0xaa, size: 40 }, { arch: 90, fill: 0xbb, size: 24 }]),
    ...syntheticFatbin([{ arch: 120, fill: 0xcc, size: 8 }, { arch: 90, fill: 0xdd, size: 16 }, { arch: 75, fill: 0xee, size: 8, kind: 1 }]),
  ]);
  const elf = syntheticElf([{ name: '.nv_fatbin', bytes: fatbin }]);
  const before = readFatbin(elf);
  assert.equal(before.containers, 2);
  assert.deepEqual(before.bytesByArch, { 'cubin:sm_80': 40, 'cubin:sm_90': 40, 'cubin:sm_120': 8, 'ptx:sm_75': 8 });
  const copy = elf.slice();
  const result = slimFatbin(copy, [90]);
  assert.equal(result.zeroed, 48);
  assert.equal(result.kept, 48, 'sm_90 cubins and the PTX entry stay');
  assert.deepEqual(result.byArch, { sm_80: 40, sm_120: 8 });
  assert.equal(copy.length, elf.length);
  const after = readFatbin(copy);
  assert.deepEqual(after.entries.map((e) => [e.arch, e.payloadSize]), before.entries.map((e) => [e.arch, e.payloadSize]), 'headers unchanged');
  const payload = (e: (typeof after.entries)[number], bytes: Uint8Array) => bytes.subarray(e.offset + e.headerSize, e.offset + e.headerSize + e.payloadSize);
  for (const e of after.entries) {
    const want = e.kind === 'cubin' && e.arch !== 90 ? 0 : payload(e, elf)[0];
    assert.ok(payload(e, copy).every((b) => b === want), `sm_${e.arch} payload`);
  }
  const outside = (bytes: Uint8Array) => bytes.filter((_, i) => !after.entries.some((e) => i >= e.offset + e.headerSize && i < e.offset + e.headerSize + e.payloadSize));
  assert.deepEqual(outside(copy), outside(elf), 'nothing outside the zeroed payloads changed');
  assert.throws(() => slimFatbin(elf.slice(), [86]), /no fatbin entry for sm_86/);
});
