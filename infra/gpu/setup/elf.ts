/**
 * Just enough ELF64 (little-endian) reading for the GPU set-up: the section table (to find
 * `.nv_fatbin`) and the dynamic section's DT_NEEDED / DT_SONAME / DT_RUNPATH entries (what
 * `readelf -d` prints), so the set-up does not depend on binutils being installed.
 * Layout: the System V ABI's ELF-64 Object File Format (Elf64_Ehdr, Elf64_Shdr, Elf64_Dyn).
 */
import { TsaeError } from '../../../lib/core/errors.js';

export interface ElfSection {
  name: string;
  type: number;
  /** File offset and size of the section's bytes. */
  offset: number;
  size: number;
}

export interface ElfDynamic {
  needed: string[];
  soname: string | null;
  runpath: string | null;
  rpath: string | null;
}

const SHT_DYNAMIC = 6;
const DT = { NULL: 0, NEEDED: 1, STRTAB: 5, SONAME: 14, RPATH: 15, RUNPATH: 29 } as const;

function header(bytes: Uint8Array, file: string): DataView {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isElf = bytes.length >= 64 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) throw new TsaeError('BAD_INPUT', `${file}: not an ELF file`);
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new TsaeError('BAD_INPUT', `${file}: only 64-bit little-endian ELF is supported`);
  return view;
}

/** The section table with names (from the section-name string table). */
export function readSections(bytes: Uint8Array, file = 'ELF file'): ElfSection[] {
  const view = header(bytes, file);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return { nameOffset: view.getUint32(at, true), type: view.getUint32(at + 4, true), offset: Number(view.getBigUint64(at + 0x18, true)), size: Number(view.getBigUint64(at + 0x20, true)) };
  });
  const names = raw[shstrndx];
  return raw.map((s) => ({ name: cString(bytes, names.offset + s.nameOffset), type: s.type, offset: s.offset, size: s.size }));
}

export function findSection(bytes: Uint8Array, name: string, file = 'ELF file'): ElfSection | null {
  return readSections(bytes, file).find((s) => s.name === name) ?? null;
}

/**
 * DT_NEEDED, DT_SONAME, DT_RUNPATH and DT_RPATH of a shared library. DT_STRTAB holds a virtual
 * address; it is mapped to a file offset through the section that contains it (.dynstr).
 */
export function readDynamic(bytes: Uint8Array, file = 'ELF file'): ElfDynamic {
  const view = header(bytes, file);
  const sections = readSections(bytes, file);
  const dynamic = sections.find((s) => s.type === SHT_DYNAMIC);
  const out: ElfDynamic = { needed: [], soname: null, runpath: null, rpath: null };
  if (!dynamic) return out;
  const entries: [number, number][] = [];
  let strtabAddress = -1;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = Number(view.getBigInt64(at, true));
    const value = Number(view.getBigUint64(at + 8, true));
    if (tag === DT.NULL) break;
    if (tag === DT.STRTAB) strtabAddress = value;
    entries.push([tag, value]);
  }
  const strtab = dynstrOffset(bytes, view, strtabAddress, file);
  for (const [tag, value] of entries) {
    if (tag === DT.NEEDED) out.needed.push(cString(bytes, strtab + value));
    else if (tag === DT.SONAME) out.soname = cString(bytes, strtab + value);
    else if (tag === DT.RUNPATH) out.runpath = cString(bytes, strtab + value);
    else if (tag === DT.RPATH) out.rpath = cString(bytes, strtab + value);
  }
  return out;
}

/** File offset of the string table at virtual address `address`, via the section headers' sh_addr. */
function dynstrOffset(bytes: Uint8Array, view: DataView, address: number, file: string): number {
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const addr = Number(view.getBigUint64(at + 0x10, true));
    const size = Number(view.getBigUint64(at + 0x20, true));
    if (address >= addr && address < addr + size) return Number(view.getBigUint64(at + 0x18, true)) + (address - addr);
  }
  throw new TsaeError('BAD_INPUT', `${file}: DT_STRTAB address 0x${address.toString(16)} is in no section`);
}

function cString(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString('latin1');
}
