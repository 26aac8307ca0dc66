/**
 * Atomic checkpoints: checkpoint/step-NNNNNNNN/{tensors.bin, meta.json}, then checkpoint/latest.json
 * (step, folder, sha256 of both files) is replaced atomically, then older step folders are removed.
 * A crash at any point leaves latest.json naming a complete, checksummed checkpoint (or none).
 * tensors.bin is the little-endian float32 tensors back to back, indexed in meta.json.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileExists, sha256File, sha256Hex, writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import { TsaeError } from '../../lib/core/errors.js';

export const CHECKPOINT_DIR = 'checkpoint';

interface LatestPointer {
  step: number;
  folder: string;
  tensorsSha256: string;
  metaSha256: string;
}

export interface CheckpointData<M> {
  step: number;
  meta: M;
  tensors: Record<string, Float32Array>;
}

export async function saveCheckpoint<M>(outDir: string, data: CheckpointData<M>): Promise<void> {
  const root = join(outDir, CHECKPOINT_DIR);
  const folder = `step-${String(data.step).padStart(8, '0')}`;
  const index: Record<string, { offset: number; length: number }> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(data.tensors)) {
    index[name] = { offset, length: t.length };
    offset += t.byteLength;
  }
  const metaText = JSON.stringify({ step: data.step, meta: data.meta, index });
  const tensorsSha256 = await writeTensorsAtomic(join(root, folder), Object.values(data.tensors));
  await writeFileAtomic(join(root, folder, 'meta.json'), metaText);
  const pointer: LatestPointer = { step: data.step, folder, tensorsSha256, metaSha256: sha256Hex(metaText) };
  await writeJsonAtomic(join(root, 'latest.json'), pointer);
  for (const entry of await readdir(root)) {
    if (entry.startsWith('step-') && entry !== folder) await rm(join(root, entry), { recursive: true, force: true });
  }
}

/** The latest complete checkpoint, or null when there is none. Checksum mismatches are errors. */
export async function loadCheckpoint<M>(outDir: string): Promise<CheckpointData<M> | null> {
  const root = join(outDir, CHECKPOINT_DIR);
  const pointerPath = join(root, 'latest.json');
  if (!(await fileExists(pointerPath))) return null;
  const pointer = JSON.parse(await readFile(pointerPath, 'utf8')) as LatestPointer;
  const tensorsPath = join(root, pointer.folder, 'tensors.bin');
  const metaText = await readFile(join(root, pointer.folder, 'meta.json'), 'utf8');
  if ((await sha256File(tensorsPath)) !== pointer.tensorsSha256 || sha256Hex(metaText) !== pointer.metaSha256) {
    throw new TsaeError('CORRUPT_ARTIFACT', `Checkpoint ${join(root, pointer.folder)} does not match the checksums in ${pointerPath}; delete the checkpoint folder to restart`, {
      details: { folder: pointer.folder },
    });
  }
  const parsed = JSON.parse(metaText) as { step: number; meta: M; index: Record<string, { offset: number; length: number }> };
  const tensors: Record<string, Float32Array> = {};
  const handle = await open(tensorsPath, 'r');
  try {
    for (const [name, { offset, length }] of Object.entries(parsed.index)) {
      const values = new Float32Array(length);
      await handle.read(new Uint8Array(values.buffer), 0, length * 4, offset);
      tensors[name] = values;
    }
  } finally {
    await handle.close();
  }
  return { step: parsed.step, meta: parsed.meta, tensors };
}

/** Streams tensors to folder/tensors.bin through a temporary file and rename; returns its sha256. */
async function writeTensorsAtomic(folder: string, tensors: Float32Array[]): Promise<string> {
  const chunks = tensors.map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  await writeFileAtomic(join(folder, 'tensors.bin'), chunks);
  return hash.digest('hex');
}
