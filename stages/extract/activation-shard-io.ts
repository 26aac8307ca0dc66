/**
 * Arrow IPC activation shards (contract: schemas/activation-shard.ts). Writing wraps the typed
 * arrays in Arrow Data without copying them; reading returns views into the file's bytes when the
 * shard is one record batch (what writeActivationShard produces), and concatenates otherwise.
 */
import { readFile } from 'node:fs/promises';
import {
  Bool,
  Data,
  Dictionary,
  Float,
  Precision,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import { writeFileAtomic } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';

/** Everything a shard holds, per token; strings are dictionary-encoded on write. */
export interface ActivationShardData extends ActivationTable {
  /** Per-token document id. */
  docIds: string[];
}

export const SHARD_COLUMNS = ['activation', 'token_id', 'row_id', 'position', 'doc_index', 'doc_id', 'source_set', 'is_special'] as const;

/** Fixed dictionary ids: arrow-js otherwise draws them from a process-wide counter, which would
 * make two writes of the same shard differ byte for byte. */
function dictionaryData(values: string[], id: number): Data<Dictionary<Utf8, Int32>> {
  const ids = new Map<string, number>();
  const indices = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    let id = ids.get(values[i]);
    if (id === undefined) ids.set(values[i], (id = ids.size));
    indices[i] = id;
  }
  const dictionary = vectorFromArray([...ids.keys()], new Utf8());
  return makeData({ type: new Dictionary(new Utf8(), new Int32(), id), length: values.length, nullCount: 0, data: indices, dictionary });
}

function packBits(flags: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(flags.length / 8));
  for (let i = 0; i < flags.length; i++) if (flags[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** Builds the Arrow table (zero-copy over the typed arrays). */
export function activationShardTable(shard: ActivationShardData): Table {
  const { count, dModel } = shard;
  if (shard.values.length !== count * dModel) {
    throw new TsaeError('BAD_INPUT', `activation values: ${shard.values.length} != count ${count} x dModel ${dModel}`);
  }
  const itemType = shard.dtype === 'float16' ? new Float16() : new Float32();
  const listType = new FixedSizeList(dModel, new Field('item', itemType, false));
  const child = makeData({ type: itemType, length: count * dModel, nullCount: 0, data: shard.values as any });
  const int = (data: Int32Array) => makeData({ type: new Int32(), length: count, nullCount: 0, data });
  const fields: [string, Data][] = [
    ['activation', makeData({ type: listType, length: count, nullCount: 0, child })],
    ['token_id', int(shard.tokenIds)],
    ['row_id', int(shard.rowIds)],
    ['position', int(shard.positions)],
    ['doc_index', int(shard.docIndex)],
    ['doc_id', dictionaryData(shard.docIds, 0)],
    ['source_set', dictionaryData(shard.sourceSets, 1)],
    ['is_special', makeData({ type: new Bool(), length: count, nullCount: 0, data: packBits(shard.isSpecial) })],
  ];
  const schema = new Schema(
    fields.map(([name, data]) => new Field(name, data.type, false)),
    new Map([['tsae.activation_dtype', shard.dtype], ['tsae.d_model', String(dModel)]]),
  );
  const struct = makeData({ type: new Struct(schema.fields), length: count, nullCount: 0, children: fields.map(([, d]) => d) });
  return new Table([new RecordBatch(schema, struct)]);
}

/** Writes one shard atomically (temp file + rename) as an Arrow IPC file. */
export async function writeActivationShard(path: string, shard: ActivationShardData): Promise<number> {
  const bytes = tableToIPC(activationShardTable(shard), 'file');
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

/** Reads a shard; typed arrays are views into the file buffer when it holds one record batch. */
export async function readActivationShard(path: string): Promise<ActivationShardData> {
  const bytes = await readFile(path);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new TsaeError('CORRUPT_ARTIFACT', `${path} is not an Arrow IPC file: ${(error as Error).message}`);
  }
  for (const name of SHARD_COLUMNS) {
    if (!table.getChild(name)) throw new TsaeError('CORRUPT_ARTIFACT', `${path}: missing column '${name}'; expected ${SHARD_COLUMNS.join(', ')}`);
  }
  const act = table.getChild('activation')!;
  const listType = act.type as FixedSizeList;
  const dModel = listType.listSize;
  const dtype = (listType.children[0].type as Float).precision === Precision.HALF ? 'float16' : 'float32';
  const count = table.numRows;
  const values = primitive(act.data.map((d) => sliceChild(d, dModel)), count * dModel, dtype === 'float16' ? Uint16Array : Float32Array);
  const ints = (name: string) => primitive(table.getChild(name)!.data.map(valuesOf), count, Int32Array);
  const special = table.getChild('is_special')!;
  const isSpecial = new Uint8Array(count);
  for (let i = 0; i < count; i++) isSpecial[i] = special.get(i) ? 1 : 0;
  return {
    dModel,
    dtype,
    count,
    values: values as Float32Array | Uint16Array,
    tokenIds: ints('token_id') as Int32Array,
    rowIds: ints('row_id') as Int32Array,
    positions: ints('position') as Int32Array,
    docIndex: ints('doc_index') as Int32Array,
    isSpecial,
    sourceSets: decodeStrings(table, 'source_set'),
    docIds: decodeStrings(table, 'doc_id'),
  };
}

type TypedCtor = Uint16ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor;

function valuesOf(d: Data): ArrayLike<number> {
  return (d.values as any).subarray(d.offset, d.offset + d.length);
}

function sliceChild(d: Data, width: number): ArrayLike<number> {
  const child = d.children[0];
  return (child.values as any).subarray((child.offset + d.offset * width), (child.offset + (d.offset + d.length) * width));
}

function primitive(chunks: ArrayLike<number>[], length: number, ctor: TypedCtor): ArrayLike<number> {
  if (chunks.length === 1 && chunks[0] instanceof ctor) return chunks[0];
  const out = new ctor(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c as any, at);
    at += c.length;
  }
  return out;
}

function decodeStrings(table: Table, name: string): string[] {
  const col = table.getChild(name)!;
  const out = new Array<string>(table.numRows);
  let at = 0;
  for (const d of col.data) {
    const dict = d.dictionary!;
    const words: string[] = [];
    for (let i = 0; i < dict.length; i++) words.push(dict.get(i) as string);
    const idx = d.values as Int32Array;
    for (let i = 0; i < d.length; i++) out[at++] = words[idx[d.offset + i]];
  }
  return out;
}
