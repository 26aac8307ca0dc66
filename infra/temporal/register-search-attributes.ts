import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/search-attributes.js';

const INDEXED = proto.temporal.api.enums.v1.IndexedValueType;
const TYPE_OF: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
  Int: INDEXED.INDEXED_VALUE_TYPE_INT,
  KeywordList: INDEXED.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Registers the pipeline's search attributes on a namespace if they are missing (the dev
 * server gets them on its command line; a cluster needs this once, or the equivalent
 * `temporal operator search-attribute create`). Returns the names that were added.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = Object.entries(SEARCH_ATTRIBUTE_TYPES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPE_OF[type]])),
  });
  return missing.map(([name]) => name);
}
