/** tokenizeShard: one corpus shard into Parquet token files (cached per shard, resumable per file). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizerSource, TokenizeShardSummary } from '../../schemas/corpus.js';
import type { CorpusSummary, ModelSummary, PlanItemRef, SpecRef, StageResult, TokenShardSummary } from '../../schemas/pipeline.js';
import type { RunSpec } from '../../schemas/run-spec.js';
import { canonicalJson, sha256File } from '../../lib/core/atomic-fs.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { corpusPlanItem } from '../plan/corpus-plan-stage.js';
import { planFileOf } from '../corpus/corpus-paths.js';
import { modelDirOf } from '../model/model-paths.js';
import { loadTokenizer, tokenizerFolder, type TextTokenizer } from './load-tokenizer.js';
import { tokenizeShard } from './tokenize-shard.js';

export interface TokenizeStageInput {
  spec: SpecRef;
  model: StageResult<ModelSummary>;
  corpus: StageResult<CorpusSummary>;
  plan: PlanItemRef;
}

export type TokenizeStageSummary = TokenShardSummary & { manifest: TokenizeShardSummary };

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

export const tokenizeStage = defineStage<TokenizeStageInput, TokenizeStageSummary, TokenShardSummary>({
  name: 'tokenize',
  module: import.meta.url,
  resources: 'cpu',
  cached: true,
  keyOf: async (input, deps) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { tokenizer: tokenizerName, ...tokenizeConfig } = spec.tokenize;
    const { source: _source, ...corpusConfig } = spec.corpus;
    const plan = await corpusPlanItem(deps.store, input.plan.plan, input.plan.index);
    // The plan's absolute file path is not part of the key: its content fingerprint and relative path are.
    const { file: _file, ...planKey } = plan;
    const source = tokenizerSourceOf(spec, modelDirOf(deps.dataDir, input.model));
    const tokenizer = await fileDigest(join(tokenizerFolder(source), 'tokenizer.json'));
    return { config: { plan: planKey, tokenizer, tokenizerName, tokenizeConfig, corpusConfig }, inputs: [] };
  },
  run: async (input, deps, { workDir }, ctx) => {
    const spec = await loadSpec(deps.store, input.spec);
    const { tokenizer: _name, ...tokenizeConfig } = spec.tokenize;
    const { source: _source, ...corpusConfig } = spec.corpus;
    const source = tokenizerSourceOf(spec, modelDirOf(deps.dataDir, input.model));
    const plan = await corpusPlanItem(deps.store, input.plan.plan, input.plan.index);
    ctx.onProgress({ stage: 'tokenize', item: plan.id, done: 0, total: plan.bytes, unit: 'bytes' });
    const tokenizer = await tokenizerFor(source, tokenizeConfig.fastSplit);
    const shard = { ...plan, file: planFileOf(deps.store, input.corpus, plan) };
    const manifest = await tokenizeShard({ shard, tokenizer, config: { ...tokenizeConfig, tokenizer: source }, corpus: corpusConfig }, workDir, ctx);
    return { ...summarizeTokenShard(manifest), manifest };
  },
  // The workflow needs counts; skip locations stay in the shard's manifest file.
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
