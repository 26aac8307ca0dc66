import type { TokenRow } from '../../../schemas/token-shard.js';

/** Deterministic token rows for extraction tests: varied lengths, packed documents, BOS flagged. */
export function makeTokenRows(count: number, vocab: number, maxLen = 20): TokenRow[] {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const rows: TokenRow[] = [];
  for (let r = 0; r < count; r++) {
    const len = r % 3 === 2 ? maxLen - 5 : maxLen;
    const ids = new Int32Array(len);
    const special = new Uint8Array(len);
    ids[0] = 2;
    special[0] = 1;
    for (let p = 1; p < len; p++) ids[p] = 3 + (next() % (vocab - 3));
    const split = 7 + (r % 5);
    rows.push({
      rowId: r,
      inputIds: ids,
      specialMask: special,
      docIds: [`doc-${r}-a`, `doc-${r}-b`],
      docStarts: [0, split],
      docOffsets: [0, 0],
      sourceSets: ['Pile-CC', r % 2 ? 'Github' : 'Wikipedia (en)'],
      split: 'train',
    });
  }
  return rows;
}

export async function* iterate<T>(items: T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}
