import { sha256Hex } from '../../lib/core/atomic-fs.js';

/** A UUID-shaped id from a hash, so the same eval inputs give the same id (outputs are deterministic artifacts). */
export function deterministicUuid(material: string): string {
  const h = sha256Hex(material);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
