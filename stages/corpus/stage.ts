/** prepareCorpus: builds the demo mini-pile (a cached artifact), or passes a user's corpus path through. */
import type { CorpusSummary, SpecRef } from '../../schemas/pipeline.js';
import { sha256Hex } from '../../lib/core/atomic-fs.js';
import { loadSpec } from '../../lib/stage/spec-ref.js';
import { defineStage } from '../../lib/stage/stage-definition.js';
import { buildDemoCorpus } from './build-demo.js';

export const corpusStage = defineStage<{ spec: SpecRef }, CorpusSummary>({
  name: 'corpus',
  module: import.meta.url,
  resources: 'cpu',
  cached: true,
  passthrough: async (input, deps) => {
    const source = (await loadSpec(deps.store, input.spec)).corpus.source;
    if (source === 'demo') return null;
    return { ref: { stage: 'corpus-external', key: sha256Hex(source).slice(0, 32), path: '' }, summary: { corpusPath: source, demo: null }, cacheHit: true };
  },
  keyOf: () => ({ config: { builder: 'demo' }, inputs: [] }),
  run: async (_input, _deps, { workDir }, ctx) => ({ corpusPath: workDir, demo: await buildDemoCorpus({ out: workDir }, ctx) }),
  // The builder's summary lists every source file; the workflow needs only where the corpus is.
  result: (summary) => ({ corpusPath: summary.corpusPath, demo: null }),
});
