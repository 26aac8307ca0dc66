import { createHash } from 'node:crypto';
import type { Split, SplitFractions } from '../../schemas/corpus.js';

/**
 * The split of a document from a salted hash of its text: deterministic, independent of file
 * order and sharding, and identical texts (duplicates) always land in the same split, so
 * duplicates cannot leak from train into val/test.
 */
export function assignSplit(text: string, salt: string, fractions: SplitFractions): Split {
  const digest = createHash('sha256').update(salt).update('\0').update(text).digest();
  // 48 bits give a uniform draw in [0, 1) with resolution far below any useful fraction.
  const u = digest.readUIntBE(0, 6) / 2 ** 48;
  if (u < fractions.train) return 'train';
  if (u < fractions.train + fractions.val) return 'val';
  return 'test';
}
