/**
 * The CUDA provider's `.nv_fatbin` section: a run of fatbin containers, each a header
 * (magic 0xBA55ED50, version, header size, payload size) and entries, each an entry header
 * (kind 1 = PTX, 2 = ELF cubin; header size; payload size; SM architecture at byte 28; flags at
 * byte 40 with 0x2000 = compressed) and its payload. The layout is NVIDIA's (fatbinary_section.h
 * and the fatbin tools' reverse-engineered `fatBinaryHeader` / `fatBinData_t`), undocumented
 * but stable since CUDA 10.
 *
 * `slimFatbin` zeroes the payload of every cubin whose architecture is not wanted, keeping all
 * headers, so the file keeps its size and layout (the ELF, its relocations and the fatbin index
 * stay valid) while its zeroed bytes compress to nothing. The CUDA runtime picks the cubin of
 * the device's architecture when it loads a module; whether it tolerates the zeroed others is
 * what the GPU check verifies (infra/gpu/README.md).
 */
import { TsaeError } from '../../../lib/core/errors.js';
import { findSection } from './elf.js';

export const FATBIN_MAGIC = 0xba55ed50;
const KIND_PTX = 1;
const KIND_CUBIN = 2;
const FLAG_COMPRESSED = 0x2000;

export interface FatbinEntry {
  /** File offset of the entry header. */
  offset: number;
  kind: 'ptx' | 'cubin' | 'other';
  /** SM architecture, e.g. 90 for sm_90. */
  arch: number;
  headerSize: number;
  payloadSize: number;
  compressed: boolean;
}

export interface FatbinSummary {
  containers: number;
  entries: FatbinEntry[];
  /** Payload bytes per `kind:sm_arch`. */
  bytesByArch: Record<string, number>;
}

/** Parses every container of `.nv_fatbin` in an ELF shared library. */
export function readFatbin(bytes: Uint8Array, file = 'ELF file'): FatbinSummary {
  const section = findSection(bytes, '.nv_fatbin', file);
  if (!section) throw new TsaeError('BAD_INPUT', `${file}: no .nv_fatbin section`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: FatbinEntry[] = [];
  let containers = 0;
  let at = section.offset;
  const end = section.offset + section.size;
  while (at < end) {
    if (view.getUint32(at, true) !== FATBIN_MAGIC) {
      // Zero padding may close the section; anything else means we misread the layout.
      if (bytes.subarray(at, end).every((b) => b === 0)) break;
      throw new TsaeError('BAD_INPUT', `${file}: bad fatbin magic 0x${view.getUint32(at, true).toString(16)} at offset ${at}`);
    }
    const headerSize = view.getUint16(at + 6, true);
    const payload = Number(view.getBigUint64(at + 8, true));
    containers++;
    let entryAt = at + headerSize;
    const containerEnd = at + headerSize + payload;
    while (entryAt < containerEnd) {
      const entry = readEntry(view, entryAt);
      entries.push(entry);
      entryAt += entry.headerSize + entry.payloadSize;
    }
    at = containerEnd;
  }
  const bytesByArch: Record<string, number> = {};
  for (const e of entries) bytesByArch[`${e.kind}:sm_${e.arch}`] = (bytesByArch[`${e.kind}:sm_${e.arch}`] ?? 0) + e.payloadSize;
  return { containers, entries, bytesByArch };
}

function readEntry(view: DataView, at: number): FatbinEntry {
  const kind = view.getUint16(at, true);
  const headerSize = view.getUint32(at + 4, true);
  const payloadSize = Number(view.getBigUint64(at + 8, true));
  const arch = view.getUint32(at + 28, true);
  const flags = headerSize >= 48 ? Number(view.getBigUint64(at + 40, true)) : 0;
  return {
    offset: at,
    kind: kind === KIND_CUBIN ? 'cubin' : kind === KIND_PTX ? 'ptx' : 'other',
    arch,
    headerSize,
    payloadSize,
    compressed: (flags & FLAG_COMPRESSED) !== 0,
  };
}

/**
 * Zeroes (in place) the payload of every cubin whose architecture is not in `keepArchs`. PTX is
 * kept (the driver could JIT it for any newer GPU). Returns the bytes zeroed per architecture.
 */
export function slimFatbin(bytes: Uint8Array, keepArchs: readonly number[], file = 'ELF file'): { zeroed: number; kept: number; byArch: Record<string, number> } {
  const { entries } = readFatbin(bytes, file);
  if (!entries.some((e) => e.kind === 'cubin' && keepArchs.includes(e.arch))) {
    throw new TsaeError('BAD_CONFIG', `${file}: no fatbin entry for sm_${keepArchs.join('/sm_')}; slimming would leave no kernels`);
  }
  const byArch: Record<string, number> = {};
  let zeroed = 0;
  let kept = 0;
  for (const e of entries) {
    if (e.kind === 'cubin' && !keepArchs.includes(e.arch)) {
      bytes.fill(0, e.offset + e.headerSize, e.offset + e.headerSize + e.payloadSize);
      byArch[`sm_${e.arch}`] = (byArch[`sm_${e.arch}`] ?? 0) + e.payloadSize;
      zeroed += e.payloadSize;
    } else kept += e.payloadSize;
  }
  return { zeroed, kept, byArch };
}
