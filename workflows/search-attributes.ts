import { defineSearchAttributeKey } from '@temporalio/common';

/** Typed keys of the pipeline's search attributes (registered by workers and `tsae dev`). */
export const TsaeModelKey = defineSearchAttributeKey('TsaeModel', 'KEYWORD');
export const TsaeLayerKey = defineSearchAttributeKey('TsaeLayer', 'INT');
export const TsaeVariantsKey = defineSearchAttributeKey('TsaeVariants', 'KEYWORD_LIST');
export const TsaePresetKey = defineSearchAttributeKey('TsaePreset', 'KEYWORD');
export const TsaeStatusKey = defineSearchAttributeKey('TsaeStatus', 'KEYWORD');
/** The root workflow id of a run, on every workflow of its tree (children, batches, nightly). */
export const TsaeRunIdKey = defineSearchAttributeKey('TsaeRunId', 'KEYWORD');
/** A nightly reproduction's outcome: established, pass or regression. */
export const TsaeNightlyKey = defineSearchAttributeKey('TsaeNightly', 'KEYWORD');

/** Name -> Temporal CLI type, for `temporal server start-dev --search-attribute` and the operator API. */
export const SEARCH_ATTRIBUTE_TYPES = {
  TsaeModel: 'Keyword',
  TsaeLayer: 'Int',
  TsaeVariants: 'KeywordList',
  TsaePreset: 'Keyword',
  TsaeStatus: 'Keyword',
  TsaeRunId: 'Keyword',
  TsaeNightly: 'Keyword',
} as const;
