import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { TsaeError } from '../core/errors.js';

/**
 * Resolves a path that must stay inside `root` (the data directory): rejects absolute paths,
 * `..` escapes, and symlinks whose target lies outside the root.
 */
export function resolveInside(root: string, relativePath: string): string {
  if (isAbsolute(relativePath) || relativePath.split(/[\\/]/).includes('..')) {
    throw new TsaeError('BAD_INPUT', `Path '${relativePath}' must be relative to the data directory and must not contain '..'`, {
      details: { path: relativePath },
    });
  }
  const absolute = resolve(root, relativePath);
  assertWithin(root, absolute, relativePath);
  const real = realpathOrSelf(absolute);
  assertWithin(realpathOrSelf(root), real, relativePath);
  return absolute;
}

function assertWithin(root: string, candidate: string, shown: string): void {
  const rel = relative(resolve(root), candidate);
  if (rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))) return;
  throw new TsaeError('BAD_INPUT', `Path '${shown}' resolves outside the data directory ${root}`, { details: { path: shown } });
}

/** realpath of the longest existing prefix, so not-yet-created paths can be checked too. */
function realpathOrSelf(path: string): string {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync(head), ...tail.reverse());
    } catch {
      const parent = resolve(head, '..');
      if (parent === head) return path;
      tail.push(head.slice(parent.length + 1));
      head = parent;
    }
  }
}
