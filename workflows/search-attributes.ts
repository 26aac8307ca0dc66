import { defineSearchAttributeKey } from '@temporalio/common';

/** Typed keys of the pipeline's search attributes (registered by `tsae dev` or `tsae setup-cluster`). */
export const TsaeModelKey = defineSearchAttributeKey('TsaeModel', 'KEYWORD');
export const TsaeLayerKey = defineSearchAttributeKey('TsaeLayer', 'INT');
export const TsaeVariantsKey = defineSearchAttributeKey('TsaeVariants', 'KEYWORD_LIST');
export const TsaePresetKey = defineSearchAttributeKey('TsaePreset', 'KEYWORD');
export const TsaeStatusKey = defineSearchAttributeKey('TsaeStatus', 'KEYWORD');

/** Name -> Temporal CLI type, for `temporal server start-dev --search-attribute` and the operator API. */
export const SEARCH_ATTRIBUTE_TYPES = {
  TsaeModel: 'Keyword',
  TsaeLayer: 'Int',
  TsaeVariants: 'KeywordList',
  TsaePreset: 'Keyword',
  TsaeStatus: 'Keyword',
} as const;
