/**
 * A minimal ELF64 little-endian file for tests: a null section, the given sections (raw bytes)
 * and .shstrtab, with a valid section table. No program headers: enough for readSections and
 * the fatbin walker, which read only the section table.
 */
export function syntheticElf(sections: { name: string; type?: number; bytes: Uint8Array }[]): Uint8Array {
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += n + '\0';
  }
  const strBytes = new TextEncoder().encode(strtab);
  const bodies = [...sections.map((s) => s.bytes), strBytes];
  const offsets: number[] = [];
  let at = 64;
  for (const b of bodies) {
    at = Math.ceil(at / 8) * 8;
    offsets.push(at);
    at += b.length;
  }
  const shoff = Math.ceil(at / 8) * 8;
  const shnum = names.length;
  const out = new Uint8Array(shoff + shnum * 64);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  view.setUint16(0x10, 3, true); // ET_DYN
  view.setUint16(0x12, 62, true); // EM_X86_64
  view.setBigUint64(0x28, BigInt(shoff), true);
  view.setUint16(0x34, 64, true);
  view.setUint16(0x3a, 64, true);
  view.setUint16(0x3c, shnum, true);
  view.setUint16(0x3e, shnum - 1, true);
  bodies.forEach((b, i) => {
    out.set(b, offsets[i]);
    const sh = shoff + (i + 1) * 64;
    view.setUint32(sh, nameOffsets[i + 1], true);
    view.setUint32(sh + 4, i < sections.length ? (sections[i].type ?? 1) : 3, true);
    view.setBigUint64(sh + 0x18, BigInt(offsets[i]), true);
    view.setBigUint64(sh + 0x20, BigInt(b.length), true);
  });
  return out;
}

/** One fatbin container holding cubin entries of the given (arch, payload byte value, size). */
export function syntheticFatbin(entries: { arch: number; fill: number; size: number; kind?: number }[]): Uint8Array {
  const body = entries.reduce((n, e) => n + 64 + e.size, 0);
  const out = new Uint8Array(16 + body);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xba55ed50, true);
  view.setUint16(4, 1, true);
  view.setUint16(6, 16, true);
  view.setBigUint64(8, BigInt(body), true);
  let at = 16;
  for (const e of entries) {
    view.setUint16(at, e.kind ?? 2, true);
    view.setUint16(at + 2, 0x0101, true);
    view.setUint32(at + 4, 64, true);
    view.setBigUint64(at + 8, BigInt(e.size), true);
    view.setUint32(at + 28, e.arch, true);
    view.setBigUint64(at + 40, 0x8011n, true);
    out.fill(e.fill, at + 64, at + 64 + e.size);
    at += 64 + e.size;
  }
  return out;
}
