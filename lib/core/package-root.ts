import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The folder holding this project's package.json, found from this file's location, so the
 * same code finds committed assets (onnx.proto, fixtures, python scripts) whether it runs
 * from the sources or from the compiled dist/ folder.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lib', 'onnx', 'onnx.proto'))) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** A path inside the project (source tree, not dist). */
export function projectPath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}
