/**
 * Every stage, by the name of the activity that runs it. The worker turns each into an activity
 * with one generic adapter (activities/stage-activity.ts); a stage process looks stages up here
 * by name; workflows import only this module's type.
 */
import { compareStage } from './compare/stage.js';
import { corpusStage } from './corpus/stage.js';
import { spliceStage } from './evaluate/splice-stage.js';
import { evaluateStage } from './evaluate/stage.js';
import { extractStage } from './extract/stage.js';
import { externalSaeStage } from './external-sae/stage.js';
import { modelStage } from './model/stage.js';
import { mergeSetsStage, writeSetStage } from './plan/artifact-sets.js';
import { planCorpusStage } from './plan/corpus-plan-stage.js';
import { planExtractionStage } from './plan/extract-plan-stage.js';
import { initRunStage } from './plan/run-record-stage.js';
import { featuresStage } from './report/features-stage.js';
import { reportStage } from './report/stage.js';
import { tokenizeStage } from './tokenize/stage.js';
import { trainStage } from './train/stage.js';

export const STAGES = {
  initRun: initRunStage,
  prepareCorpus: corpusStage,
  planCorpus: planCorpusStage,
  prepareModel: modelStage,
  tokenizeShard: tokenizeStage,
  planExtraction: planExtractionStage,
  extractShard: extractStage,
  writeSet: writeSetStage,
  mergeSets: mergeSetsStage,
  trainSae: trainStage,
  importExternalSae: externalSaeStage,
  evaluateSae: evaluateStage,
  spliceSaes: spliceStage,
  collectFeatures: featuresStage,
  writeReport: reportStage,
  compareWithReference: compareStage,
} as const;

export type StageName = keyof typeof STAGES;
