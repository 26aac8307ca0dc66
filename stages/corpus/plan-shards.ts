import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { CorpusConfigInput, CorpusShardPlan } from '../../schemas/corpus.js';
import { CorpusConfig } from '../../schemas/corpus.js';
import { sha256Hex } from '../../lib/core/atomic-fs.js';
import { listCorpusFiles, type CorpusFile } from './list-files.js';
import { parquetRowGroupStarts } from './read-parquet.js';
import { isCorruption } from './skip-log.js';

const FINGERPRINT_BYTES = 1 << 20;

/**
 * Splits a corpus into independent shards for parallel tokenize activities: one per .jsonl.zst
 * file (zstd streams cannot be entered mid-way), plain .jsonl files cut at line starts about
 * every `shardBytes`, Parquet files cut at row-group boundaries about every `shardRows`.
 * Deterministic: files sorted by path, cut points from content only. A Parquet file whose footer
 * does not parse fails planning under badInput 'fail' and is planned whole under 'skip'.
 */
export async function planCorpusShards(configInput: CorpusConfigInput): Promise<CorpusShardPlan[]> {
  const config = CorpusConfig.parse(configInput);
  const { files } = await listCorpusFiles(config.path, config.formats);
  const plans: CorpusShardPlan[] = [];
  for (const file of files) {
    const fingerprint = await fingerprintFile(file.path, file.bytes);
    const base = { file: file.path, relPath: file.relPath, format: file.format, bytes: file.bytes, fingerprint };
    const parts = await planFileParts(file, config.shardBytes, config.shardRows).catch((error: unknown) => {
      // Under 'skip' a Parquet file whose footer does not parse becomes one whole-file shard, so
      // the tokenize stage records it in that shard's manifest (file, byte offset) like any other
      // corrupt data; under 'fail' planning stops here, naming the file.
      if (config.badInput === 'skip' && isCorruption(error)) return [{}];
      throw error;
    });
    parts.forEach((part, k) => {
      plans.push({ id: parts.length > 1 ? `${file.relPath}@${k}` : file.relPath, index: plans.length, ...base, ...part });
    });
    if (config.maxShards !== undefined && plans.length >= config.maxShards) break;
  }
  return config.maxShards === undefined ? plans : plans.slice(0, config.maxShards);
}

type FilePart = Pick<CorpusShardPlan, 'byteStart' | 'byteEnd' | 'firstLine' | 'rowStart' | 'rowEnd'>;

async function planFileParts(file: CorpusFile, shardBytes: number, shardRows: number): Promise<FilePart[]> {
  if (file.format === 'jsonl.zst') return [{}];
  if (file.format === 'parquet') {
    const starts = await parquetRowGroupStarts(file.path);
    const parts: FilePart[] = [];
    let from = 0;
    for (let g = 1; g < starts.length; g++) {
      if (starts[g] - starts[from] >= shardRows || g === starts.length - 1) {
        parts.push({ rowStart: starts[from], rowEnd: starts[g] });
        from = g;
      }
    }
    return parts.length ? parts : [{ rowStart: 0, rowEnd: 0 }];
  }
  if (file.bytes <= shardBytes) return [{ byteStart: 0, byteEnd: file.bytes, firstLine: 1 }];
  return cutAtLines(file.path, file.bytes, shardBytes);
}

/** Cuts a JSON-lines file after the first newline past every multiple of shardBytes, counting lines. */
async function cutAtLines(path: string, size: number, shardBytes: number): Promise<FilePart[]> {
  const parts: FilePart[] = [];
  let partStart = 0;
  let partLine = 1;
  let line = 1;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const data = chunk as Buffer;
    let from = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, from);
      if (nl < 0) break;
      line += 1;
      const next = offset + nl + 1;
      if (next - partStart >= shardBytes && next < size) {
        parts.push({ byteStart: partStart, byteEnd: next, firstLine: partLine });
        partStart = next;
        partLine = line;
      }
      from = nl + 1;
    }
    offset += data.length;
  }
  parts.push({ byteStart: partStart, byteEnd: size, firstLine: partLine });
  return parts;
}

/** sha256 over the size and the first and last MiB: content-based and cheap even for 14 GB files. */
export async function fingerprintFile(path: string, size: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(FINGERPRINT_BYTES, size));
    await handle.read(head, 0, head.length, 0);
    const tailLength = Math.min(FINGERPRINT_BYTES, Math.max(0, size - head.length));
    const tail = Buffer.alloc(tailLength);
    if (tailLength > 0) await handle.read(tail, 0, tailLength, size - tailLength);
    return sha256Hex(Buffer.concat([Buffer.from(`${size}\n`), head, tail]));
  } finally {
    await handle.close();
  }
}
