/** Reads the activation shards of extraction artifacts for the train and evaluate activities. */
import { join } from 'node:path';
import type { ActivationTable } from '../schemas/activation-shard.js';
import type { ArtifactRef } from '../schemas/manifest.js';
import type { ExtractSummary } from '../schemas/model.js';
import type { ArtifactStore } from '../stages/artifacts/store.js';
import { TsaeError } from '../stages/core/errors.js';
import { readActivationShard } from '../stages/extract/activation-shard-io.js';
import { concatActivationTables } from '../stages/extract/concat-tables.js';
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

/** Training data loaded shard by shard (bounded memory): one activation part per shard. */
export async function trainDataOf(store: ArtifactStore, refs: ArtifactRef[]): Promise<TrainData> {
  const files = await activationParts(store, refs);
  return { shardCount: files.length, loadShard: (i) => readActivationShard(files[i]) };
}

/** All held-out activations in one table (evals read them whole). */
export async function evalTableOf(store: ArtifactStore, refs: ArtifactRef[]): Promise<ActivationTable> {
  const tables = await Promise.all((await activationParts(store, refs)).map((f) => readActivationShard(f)));
  return concatActivationTables(tables);
}
