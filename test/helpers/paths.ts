import { projectPath } from '../../lib/core/package-root.js';

/** A committed fixture file under test/fixtures. */
export function fixturePath(...segments: string[]): string {
  return projectPath('test', 'fixtures', ...segments);
}
