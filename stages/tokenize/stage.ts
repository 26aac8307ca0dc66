/** tokenizeShard: one corpus shard into Parquet token files (cached per shard, resumable per file). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizerSource, TokenizeShardCounts, TokenizeShardSummary } from '../../schemas/corpus.js';
import type { CorpusSummary, ModelSummary, PlanItemRef, SpecRef, StageResult } from '../../schemas/pipeline.js';
import type { RunSpec } from '../../schemas/run-spec.js';
import { canonicalJson, sha256File } from '../../lib/core/atomic-fs.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { corpusPlanItem } from '../plan/corpus-plan-stage.js';
import { planFileOf } from '../corpus/corpus-paths.js';
import { modelDirOf } from '../model/model-paths.js';
import { loadTokenizer, tokenizerFolder, type TextTokenizer } from './load-tokenizer.js';
import { tokenizeShard } from './tokenize-shard.js';
import { tokenizeShardCounts } from './shard-counts.js';
import { checkTokenizerForModel } from '../../lib/spec/tokenizer-fit.js';

export interface TokenizeStageInput {
  spec: SpecRef;
  model: StageResult<ModelSummary>;
  corpus: StageResult<CorpusSummary>;
  plan: PlanItemRef;
}

export type TokenizeStageSummary = TokenizeShardCounts & { manifest: TokenizeShardSummary };

/** The tokenize settings that shape token files (the foreign-tokenizer override only permits). */
function tokenizeSettings(spec: RunSpec) {
  const { tokenizer, allowForeignTokenizer: _allowed, ...config } = spec.tokenize;
  return { tokenizerName: tokenizer, config };
}

export function tokenizerSourceOf(spec: RunSpec, modelDir: string): TokenizerSource {
  const name = spec.tokenize.tokenizer;
  if (name === 'model') return { kind: 'folder', path: modelDir };
  if (name === 'gemma2' || name === 'gemma3') return { kind: name };
  return { kind: 'folder', path: name };
}

const tokenizers = new Map<string, Promise<TextTokenizer>>();
/** Tokenizers take seconds to load: one per source per stage process. */
function tokenizerFor(source: TokenizerSource, fastSplit: boolean): Promise<TextTokenizer> {
  const key = canonicalJson({ source, fastSplit });
  let tokenizer = tokenizers.get(key);
  if (!tokenizer) {
    tokenizer = loadTokenizer(source, { fastSplit });
    tokenizers.set(key, tokenizer);
    tokenizer.catch(() => tokenizers.delete(key));
  }
  return tokenizer;
}

export const tokenizeStage = defineStage<TokenizeStageInput, TokenizeStageSummary, TokenizeShardCounts>({
  name: 'tokenize',
  module: import.meta.url,
  resources: 'cpu',
  cached: true,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { tokenizerName, config: tokenizeConfig } = tokenizeSettings(spec);
    const { source: _source, ...corpusConfig } = spec.corpus;
    const plan = await corpusPlanItem(deps.store, input.plan.plan, input.plan.index);
    // The plan's absolute file path is not part of the key: its content fingerprint and relative path are.
    const { file: _file, ...planKey } = plan;
    const source = tokenizerSourceOf(spec, modelDirOf(deps.dataDir, input.model));
    const tokenizer = await fileDigest(join(tokenizerFolder(source), 'tokenizer.json'));
    const modelVocabSize = input.model.summary.vocabSize;
    return { config: { plan: planKey, tokenizer, tokenizerName, tokenizeConfig, corpusConfig, modelVocabSize }, inputs: [] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { config: tokenizeConfig } = tokenizeSettings(spec);
    const { source: _source, ...corpusConfig } = spec.corpus;
    const source = tokenizerSourceOf(spec, modelDirOf(deps.dataDir, input.model));
    const plan = await corpusPlanItem(deps.store, input.plan.plan, input.plan.index);
    ctx.onProgress({ stage: 'tokenize', item: plan.id, done: 0, total: plan.bytes, unit: 'bytes' });
    const tokenizer = await tokenizerFor(source, tokenizeConfig.fastSplit);
    const modelVocabSize = input.model.summary.vocabSize;
    const shard = { ...plan, file: planFileOf(deps.store, input.corpus, plan) };
    const manifest = await tokenizeShard({ shard, tokenizer, config: { ...tokenizeConfig, tokenizer: source }, corpus: corpusConfig, modelVocabSize }, workDir, ctx);
    return { ...tokenizeShardCounts(manifest), manifest };
  },
  // The tokenizer must fit the model (ids below its vocabulary; the model's own unless overridden),
  // also on a cache hit: a non-retryable BAD_CONFIG naming tokenize.tokenizer and model.source.
  validate: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    await checkTokenizerForModel({ tokenize: spec.tokenize, modelSource: spec.model.source, modelDir: modelDirOf(deps.dataDir, input.model), modelVocabSize: input.model.summary.vocabSize });
  },
  // The workflow needs counts; skip and corruption locations stay in the shard's manifest file.
  result: ({ manifest: _manifest, ...counts }) => counts,
});

const digests = new Map<string, Promise<string>>();
/** sha256 of a file, memoised by path, size and mtime (every shard's key hashes the same tokenizer). */
async function fileDigest(path: string): Promise<string> {
  const info = await stat(path);
  const id = `${path}:${info.size}:${info.mtimeMs}`;
  let digest = digests.get(id);
  if (!digest) {
    digest = sha256File(path);
    digests.set(id, digest);
  }
  return digest;
}
