/**
 * A prepared model folder in the transformers.js layout:
 *   config.json, tokenizer.json, tokenizer_config.json, generation_config.json (optional)
 *   onnx/model.onnx (+ onnx/model.onnx_data)   full graph: input_ids, attention_mask -> logits
 *   tsae.json                                  residual tensor names, unembedding, export check
 *
 * Residual convention: layer L means resid_post.L, the output of decoder block L (0-based), which
 * is SAELens `blocks.L.hook_resid_post` and Hugging Face `hidden_states[L + 1]` for every block but
 * the last (HF applies the final norm to its last hidden state; resid_post never does).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { TsaeError } from '../../lib/core/errors.js';
import { fileExists } from '../../lib/core/atomic-fs.js';
import { TsaeModelMeta } from '../../schemas/model.js';

export interface ModelFolder {
  dir: string;
  meta: TsaeModelMeta;
  /** config.json as parsed. */
  config: Record<string, unknown>;
  onnxPath: string;
  /** onnx/model.onnx_data when the weights are external, else null. */
  dataPath: string | null;
}

const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'tsae.json', join('onnx', 'model.onnx')];

/** Loads and validates a model folder; errors name the missing file or the bad field. */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  for (const file of REQUIRED) {
    if (!(await fileExists(join(dir, file)))) {
      throw new TsaeError('NOT_FOUND', `Model folder ${dir} lacks ${file}; prepare it with \`tsae model prepare [source] --out ${dir}\``, {
        details: { dir, file },
      });
    }
  }
  const meta = parseJsonFile<TsaeModelMeta>(join(dir, 'tsae.json'), await readFile(join(dir, 'tsae.json'), 'utf8'), TsaeModelMeta);
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  if (meta.residualTensors.length !== meta.numLayers) {
    throw new TsaeError('CORRUPT_ARTIFACT', `${join(dir, 'tsae.json')}: residualTensors has ${meta.residualTensors.length} names, numLayers is ${meta.numLayers}`);
  }
  const dataPath = join(dir, 'onnx', 'model.onnx_data');
  return { dir, meta, config, onnxPath: join(dir, 'onnx', 'model.onnx'), dataPath: (await fileExists(dataPath)) ? dataPath : null };
}

function parseJsonFile<T>(path: string, text: string, schema: { safeParse(v: unknown): any }): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TsaeError('CORRUPT_ARTIFACT', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TsaeError('CORRUPT_ARTIFACT', `${path}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as T;
}

/** SAELens hook name for the residual this project extracts at `layer`. */
export function hookName(layer: number): string {
  return `blocks.${layer}.hook_resid_post`;
}

const CACHE_HASH_ABOVE_BYTES = 64 * 2 ** 20;
const HASHED = ['config.json', 'tokenizer.json', join('onnx', 'model.onnx'), join('onnx', 'model.onnx_data')];

/**
 * sha256 over the files that define the model's numbers (not derived graphs). Hashing 1 GB of
 * weights takes seconds, so the result is cached in onnx/.tsae-hash.json keyed by sizes + mtimes.
 */
export async function modelHash(folder: ModelFolder): Promise<string> {
  const stamps: string[] = [];
  let bytes = 0;
  for (const file of HASHED) {
    const info = await stat(join(folder.dir, file)).catch(() => null);
    if (info) stamps.push(`${file}:${info.size}:${info.mtimeMs}`);
    bytes += info?.size ?? 0;
  }
  // Small folders (fixtures) are hashed every time and never written to.
  const cachePath = bytes > CACHE_HASH_ABOVE_BYTES ? join(folder.dir, 'onnx', '.tsae-hash.json') : null;
  const cached = cachePath ? await readFile(cachePath, 'utf8').then((t) => JSON.parse(t) as { stamps: string[]; hash: string }, () => null) : null;
  if (cached && cached.stamps.join('|') === stamps.join('|')) return cached.hash;
  const outer = createHash('sha256');
  for (const file of HASHED) {
    const path = join(folder.dir, file);
    if (!(await fileExists(path))) continue;
    const inner = createHash('sha256');
    for await (const chunk of createReadStream(path)) inner.update(chunk as Buffer);
    outer.update(`${file.replaceAll('\\', '/')}\0${inner.digest('hex')}\n`);
  }
  const hash = outer.digest('hex');
  if (cachePath) await writeFile(cachePath, JSON.stringify({ stamps, hash }) + '\n').catch(() => undefined);
  return hash;
}

/** Reads a little-endian .bin tensor described by a {file, shape, dtype} entry. */
export async function readBinTensor(dir: string, ref: { file: string; shape: number[]; dtype: 'float32' | 'int32' }): Promise<Float32Array | Int32Array> {
  const bytes = await readFile(join(dir, ref.file));
  const count = ref.shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * 4) {
    throw new TsaeError('CORRUPT_ARTIFACT', `${join(dir, ref.file)} has ${bytes.byteLength} bytes, expected ${count * 4} for shape [${ref.shape}]`);
  }
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return ref.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
}
