/**
 * Activities receive the run spec by reference: the spec is stored once as a content-addressed
 * JSON artifact when the run starts, and every activity input carries this small reference
 * instead of the whole spec (which would otherwise ride in every history event).
 */
import type { RunSpec } from '../../schemas/run-spec.js';
import type { SpecRef } from '../../schemas/pipeline.js';
import { readJsonArtifact, storeJsonArtifact } from '../artifacts/json-artifact.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { storeIdentity } from '../artifacts/store-identity.js';

export type { SpecRef };

/** Stores the spec and returns the reference activities will carry. */
export async function storeSpec(store: ArtifactStore, spec: RunSpec): Promise<SpecRef> {
  const ref = await storeJsonArtifact(store, 'spec', spec);
  const identity = await storeIdentity(store.dataDir);
  return { key: ref.key, path: ref.path, storeId: identity.id, dataDir: store.dataDir };
}

export function loadSpec(store: ArtifactStore, ref: SpecRef): Promise<RunSpec> {
  return readJsonArtifact<RunSpec>(store, ref);
}
