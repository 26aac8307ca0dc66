/**
 * Files of an external checkpoint, read once and hashed from the same bytes, so the content
 * address (sha256) always describes exactly what was parsed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExternalSaeFile } from '../../schemas/external-sae.js';
import { badInput } from '../../lib/core/errors.js';

export interface HashedFile {
  path: string;
  bytes: Buffer;
  record: ExternalSaeFile;
}

/** Reads `folder/name`; a missing file is a BAD_INPUT naming it and `why` it is needed. */
export async function readHashed(folder: string, name: string, why: string): Promise<HashedFile> {
  const path = join(folder, name);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badInput(`${path}: missing (${why})`, { file: path });
    if (code === 'EISDIR') throw badInput(`${path}: is a directory, expected a file (${why})`, { file: path });
    throw badInput(`${path}: cannot read (${(error as Error).message})`, { file: path });
  }
  return { path, bytes, record: { file: name, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

/** A JSON object from a hashed file, or a BAD_INPUT naming the file. */
export function parseJsonObject(file: HashedFile): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(file.bytes.toString('utf8'));
  } catch (error) {
    throw badInput(`${file.path}: not valid JSON (${(error as Error).message})`, { file: file.path });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badInput(`${file.path}: expected a JSON object`, { file: file.path });
  return value as Record<string, unknown>;
}

/** sha256 over the format and each file's name and sha256: the checkpoint's content address. */
export function contentAddress(format: string, files: readonly ExternalSaeFile[]): string {
  const hash = createHash('sha256').update(`external-sae\n${format}\n`);
  for (const f of [...files].sort((a, b) => a.file.localeCompare(b.file))) hash.update(`${f.file}\t${f.bytes}\t${f.sha256}\n`);
  return hash.digest('hex');
}
