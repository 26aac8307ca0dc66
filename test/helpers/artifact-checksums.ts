import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every complete artifact under a data directory as `stage/key/file -> sha256`, from the
 * manifests (checked against the files by the caller via ArtifactStore.find when needed).
 */
export async function artifactChecksums(dataDir: string, stages?: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const root = join(dataDir, 'artifacts');
  for (const stage of (await readdir(root).catch(() => [])).sort()) {
    if (stages && !stages.includes(stage)) continue;
    for (const key of (await readdir(join(root, stage))).sort()) {
      const manifest = await readFile(join(root, stage, key, 'manifest.json'), 'utf8').catch(() => null);
      if (!manifest) continue;
      for (const file of (JSON.parse(manifest) as { files: { path: string; sha256: string }[] }).files) out[`${stage}/${key}/${file.path}`] = file.sha256;
    }
  }
  return out;
}
