import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DEMO_SOURCES } from '../../../stages/corpus/demo/sources.js';
import { projectPath } from '../../../lib/core/package-root.js';

const zstd = createRequire(import.meta.url)('zstd-napi') as { compress(data: Uint8Array): Buffer };

export interface SampleDoc {
  text: string;
  meta: Record<string, unknown>;
}

/** The first `perSource` documents of every demo source: a small, real, varied corpus. */
export async function demoSample(perSource: number): Promise<SampleDoc[]> {
  const docs: SampleDoc[] = [];
  for (const source of DEMO_SOURCES) {
    let n = 0;
    for await (const doc of source.collect(projectPath('node_modules'))) {
      if (doc.text.trim().length === 0) continue;
      docs.push({ text: doc.text, meta: { pile_set_name: source.pileSetName, ...doc.meta } });
      if (++n >= perSource) break;
    }
  }
  return docs;
}

/** Writes docs as a Pile-layout .jsonl.zst file. */
export async function writeZstCorpus(dir: string, name: string, docs: SampleDoc[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, zstd.compress(Buffer.from(docs.map((d) => JSON.stringify(d)).join('\n') + '\n')));
  return path;
}
