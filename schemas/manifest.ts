import { z } from 'zod';

/** A sha256 digest in lower-case hex (64 characters). */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** Size and digest of one file, as manifests and external-SAE provenance record them. */
export const fileDigestFields = {
  bytes: z.number().int().nonnegative().describe('File size in bytes'),
  sha256: Sha256Hex.describe('Hex sha256 of the file contents'),
};

/** One file of an artifact folder, as recorded in its manifest. */
export const ArtifactFile = z.object({
  path: z.string().describe('Path relative to the artifact folder, with forward slashes'),
  ...fileDigestFields,
});
export type ArtifactFile = z.infer<typeof ArtifactFile>;

/**
 * The manifest of a content-addressed artifact folder. It is written last and atomically:
 * a folder without a valid manifest is not an artifact (it is work in progress or debris).
 */
export const ArtifactManifest = z.object({
  schemaVersion: z.literal(1).describe('Version of this manifest format'),
  stage: z.string().describe('Stage that produced the artifact, e.g. "tokenize"'),
  key: z.string().describe('Content address: sha256 of stage, code version, config and input keys'),
  codeVersion: z.string().describe('Version of the stage code; bumping it invalidates cached artifacts'),
  config: z.unknown().describe('The stage config the key was computed from'),
  inputs: z.array(z.string()).describe('Keys of the input artifacts'),
  createdAt: z.string().describe('ISO time the artifact was completed (not part of the key)'),
  durationMs: z.number().nonnegative().describe('Wall time of the attempt that completed it'),
  files: z.array(ArtifactFile).describe('Every file in the folder except manifest.json'),
  summary: z.unknown().describe("The stage's own summary (counts, dtype and device actually used, ...)"),
});
export type ArtifactManifest = z.infer<typeof ArtifactManifest>;

/** How a workflow refers to an artifact: never by tensors, only by stage + key (+ its summary). */
export const ArtifactRef = z.object({
  stage: z.string().describe('Stage name'),
  key: z.string().describe('Content address'),
  path: z.string().describe('Folder relative to the data directory, e.g. artifacts/tokenize/<key>'),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;
