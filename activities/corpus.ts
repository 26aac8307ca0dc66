/** Corpus and tokenization activities: thin wrappers over stages/corpus and stages/tokenize. */
import { isAbsolute, join } from 'node:path';
import type { CorpusShardPlan, TokenizerSource, TokenizeShardSummary } from '../schemas/corpus.js';
import type { ArtifactRef } from '../schemas/manifest.js';
import type { CorpusSummary, ModelSummary, StageResult, TokenShardSummary } from '../schemas/pipeline.js';
import type { RunSpec } from '../schemas/run-spec.js';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import { canonicalJson, sha256Hex } from '../lib/core/atomic-fs.js';
import { buildDemoCorpus, DEMO_BUILDER_VERSION } from '../stages/corpus/build-demo.js';
import { planCorpusShards } from '../stages/corpus/plan-shards.js';
import { loadTokenizer, type TextTokenizer } from '../stages/tokenize/load-tokenizer.js';
import { tokenizeShard } from '../stages/tokenize/tokenize-shard.js';
import { runStageActivity, toApplicationFailure, type ActivityDeps } from './run-stage.js';

/** Bump when the activity glue changes what a stage produces. */
const TOKENIZE_CODE_VERSION = 'tokenize@1';

export type { CorpusSummary };

/** The corpus folder of a `prepareCorpus` result, wherever this worker keeps its data. */
export function corpusPathOf(store: ArtifactStore, corpus: StageResult<CorpusSummary>): string {
  return corpus.ref.stage === 'corpus' ? store.pathOf(corpus.ref) : corpus.summary.corpusPath;
}

/** A model folder from a `prepareModel` result: data-relative for prepared models, absolute for user folders. */
export function modelDirOf(store: ArtifactStore, model: StageResult<ModelSummary>): string {
  return isAbsolute(model.summary.modelDir) ? model.summary.modelDir : join(store.dataDir, model.summary.modelDir);
}

export function tokenizerSourceOf(spec: RunSpec, modelDir: string): TokenizerSource {
  const name = spec.tokenize.tokenizer;
  if (name === 'model') return { kind: 'folder', path: modelDir };
  if (name === 'gemma2' || name === 'gemma3') return { kind: name };
  return { kind: 'folder', path: name };
}

export function createCorpusActivities(deps: ActivityDeps) {
  const tokenizers = new Map<string, Promise<TextTokenizer>>();
  /** Tokenizers take seconds to load: one per source per worker process. */
  const tokenizerFor = (source: TokenizerSource, fastSplit: boolean) => {
    const key = canonicalJson({ source, fastSplit });
    if (!tokenizers.has(key)) tokenizers.set(key, loadTokenizer(source, { fastSplit }).catch((e) => (tokenizers.delete(key), Promise.reject(e))));
    return tokenizers.get(key)!;
  };

  return {
    /** Builds the demo mini-pile (a cached artifact), or checks a user corpus path. */
    async prepareCorpus(input: { spec: RunSpec }): Promise<StageResult<CorpusSummary>> {
      const source = input.spec.corpus.source;
      if (source !== 'demo') {
        return {
          ref: { stage: 'corpus-external', key: sha256Hex(source).slice(0, 32), path: '' },
          summary: { corpusPath: source, demo: null },
          cacheHit: true,
        };
      }
      return runStageActivity(deps, { stage: 'corpus', codeVersion: `demo@${DEMO_BUILDER_VERSION}`, config: { builder: 'demo' }, inputs: [] }, async ({ workDir }, ctx) => {
        const demo = await buildDemoCorpus({ out: workDir }, ctx);
        return { corpusPath: workDir, demo };
      });
    },

    /** The corpus split into independent shards, in a deterministic order. */
    async planCorpus(input: { spec: RunSpec; corpus: StageResult<CorpusSummary> }): Promise<CorpusShardPlan[]> {
      try {
        const { source: _source, ...corpusConfig } = input.spec.corpus;
        return await planCorpusShards({ ...corpusConfig, path: corpusPathOf(deps.store, input.corpus) });
      } catch (error) {
        throw toApplicationFailure(error);
      }
    },

    /** Tokenizes one corpus shard into Parquet token files (cached per shard, resumable). */
    async tokenizeShard(input: { spec: RunSpec; model: StageResult<ModelSummary>; corpus: StageResult<CorpusSummary>; plan: CorpusShardPlan }): Promise<StageResult<TokenShardSummary & { manifest: TokenizeShardSummary }>> {
      const { spec, plan } = input;
      const { tokenizer: tokenizerName, ...tokenizeConfig } = spec.tokenize;
      const source = tokenizerSourceOf(spec, modelDirOf(deps.store, input.model));
      const { source: _source, ...corpusConfig } = spec.corpus;
      const tokenizer = await tokenizerFor(source, tokenizeConfig.fastSplit);
      // The plan's absolute file path is not part of the key: its content fingerprint and relative path are.
      const { file: _file, ...planKey } = plan;
      return runStageActivity(
        deps,
        { stage: 'tokenize', codeVersion: TOKENIZE_CODE_VERSION, config: { plan: planKey, tokenizer: tokenizer.sha256, tokenizerName, tokenizeConfig, corpusConfig }, inputs: [] },
        async ({ workDir }, ctx) => {
          const manifest = await tokenizeShard({ shard: plan, tokenizer, config: { ...tokenizeConfig, tokenizer: source }, corpus: corpusConfig }, workDir, ctx);
          return { ...summarizeTokenShard(manifest), manifest };
        },
      );
    },
  };
}

function summarizeTokenShard(manifest: TokenizeShardSummary): TokenShardSummary {
  const split = (record: Record<string, number>) => ({ train: record.train ?? 0, val: record.val ?? 0, test: record.test ?? 0 });
  const rowsBySplit = split(manifest.rows);
  return {
    rows: rowsBySplit.train + rowsBySplit.val + rowsBySplit.test,
    tokens: manifest.tokens.total,
    rowsBySplit,
    tokensBySplit: split(manifest.tokens.bySplit),
    skipped: manifest.documents.skipped,
  };
}

export type { ArtifactRef };
