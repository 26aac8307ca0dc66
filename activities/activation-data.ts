/** Reads the activation shards of extraction artifacts for the train and evaluate activities. */
import { join } from 'node:path';
import type { ActivationTable } from '../schemas/activation-shard.js';
import type { ArtifactRef } from '../schemas/manifest.js';
import type { ExtractSummary } from '../schemas/model.js';
import type { ArtifactStore } from '../lib/artifacts/store.js';
import { TsaeError } from '../lib/core/errors.js';
import { readActivationShard } from '../stages/extract/activation-shard-io.js';
import { concatActivationTables } from '../stages/extract/concat-tables.js';
import { validateActivations } from '../stages/extract/validate-activations.js';
import type { TrainData } from '../stages/train/batches.js';

/** Every activation part file of the given extraction artifacts, in order. */
export async function activationParts(store: ArtifactStore, refs: ArtifactRef[]): Promise<string[]> {
  const files: string[] = [];
  for (const ref of refs) {
    const manifest = await store.find(ref.stage, ref.key);
    if (!manifest) throw new TsaeError('NOT_FOUND', `activation artifact ${ref.path} is missing from this worker's data directory ${store.dataDir}`);
    const summary = manifest.summary as ExtractSummary;
    for (const part of summary.parts) files.push(join(store.pathOf(ref), part.file));
  }
  return files;
}

/** Reads one activation part and checks it (width, finite values) before anything trains on it. */
async function readChecked(file: string, expectedDModel?: number): Promise<ActivationTable> {
  const table = await readActivationShard(file);
  validateActivations(table, file, expectedDModel);
  return table;
}

/** Training data loaded shard by shard (bounded memory): one activation part per shard. */
export async function trainDataOf(store: ArtifactStore, refs: ArtifactRef[]): Promise<TrainData> {
  return trainDataFromFiles(await activationParts(store, refs));
}

/** Shard-by-shard loader that checks every part against the first one's width (and finiteness). */
export function trainDataFromFiles(files: string[]): TrainData {
  let width: number | undefined;
  return {
    shardCount: files.length,
    loadShard: async (i) => {
      const table = await readChecked(files[i], width);
      width ??= table.dModel;
      return table;
    },
  };
}

/** All held-out activations in one table (evals read them whole). */
export async function evalTableOf(store: ArtifactStore, refs: ArtifactRef[], expectedDModel?: number): Promise<ActivationTable> {
  const tables = await Promise.all((await activationParts(store, refs)).map((f) => readChecked(f, expectedDModel)));
  return concatActivationTables(tables);
}
