/** Reads the activation parts of an extraction set (a fan-out's result) for training and evaluation. */
import { join } from 'node:path';
import type { ActivationTable } from '../../schemas/activation-shard.js';
import type { ArtifactRef } from '../../schemas/manifest.js';
import type { ExtractSummary } from '../../schemas/model.js';
import type { ArtifactStore } from '../../lib/artifacts/store.js';
import { TsaeError } from '../../lib/core/errors.js';
import { readArtifactSet } from '../plan/artifact-sets.js';
import type { TrainData } from '../train/batches.js';
import { readActivationShard } from './activation-shard-io.js';
import { concatActivationTables } from './concat-tables.js';
import { validateActivations } from './validate-activations.js';

/** Every activation part file of an extraction set, in order. */
export async function activationParts(store: ArtifactStore, set: ArtifactRef): Promise<string[]> {
  const files: string[] = [];
  for (const item of (await readArtifactSet(store, set)).items) {
    const manifest = await store.find(item.ref.stage, item.ref.key);
    if (!manifest) throw new TsaeError('NOT_FOUND', `activation artifact ${item.ref.path} is missing from this worker's data directory ${store.dataDir}`);
    for (const part of (manifest.summary as ExtractSummary).parts) files.push(join(store.pathOf(item.ref), part.file));
  }
  return files;
}

/** Reads one activation part and checks it (width, finite values) before anything trains on it. */
async function readChecked(file: string, expectedDModel?: number): Promise<ActivationTable> {
  const table = await readActivationShard(file);
  validateActivations(table, file, expectedDModel);
  return table;
}

/** Training data loaded part by part (bounded memory). */
export async function trainDataOf(store: ArtifactStore, set: ArtifactRef): Promise<TrainData> {
  return trainDataFromFiles(await activationParts(store, set));
}

/** Part-by-part loader that checks every part against the first one's width (and finiteness). */
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
export async function evalTableOf(store: ArtifactStore, set: ArtifactRef, expectedDModel?: number): Promise<ActivationTable> {
  const tables = await Promise.all((await activationParts(store, set)).map((f) => readChecked(f, expectedDModel)));
  return concatActivationTables(tables);
}
