/** Shared pieces of the external-SAE tests: fixture references and the eval's core metric pass. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivationTable } from '../../../schemas/activation-shard.js';
import { defaultStageContext } from '../../../lib/core/context.js';
import { CoreMetricsAccumulator, type ReconstructionMetrics } from '../../../stages/evaluate/core-metrics.js';
import type { SaeForEval } from '../../../stages/evaluate/interfaces.js';
import { runTokenPass } from '../../../stages/evaluate/token-pass.js';
import { fixturePath } from '../../helpers/paths.js';

/** reference.json of infra/dev/python/make_external_sae_fixtures.py. */
export interface FixtureReference {
  library: string;
  folder: string;
  architecture: string;
  dtype: string;
  rows: number;
  d_in: number;
  d_sae: number;
  layer: number;
  x: number[];
  latents: number[];
  reconstruction: number[];
  metrics: { l0: number; mse: number; explained_variance: number; cossim: number };
}

export const FIXTURES_DIR = fixturePath('external-sae');

export function fixtureCases(): { name: string; dir: string; ref: FixtureReference }[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => existsSync(join(FIXTURES_DIR, name, 'reference.json')))
    .sort()
    .map((name) => ({ name, dir: join(FIXTURES_DIR, name), ref: JSON.parse(readFileSync(join(FIXTURES_DIR, name, 'reference.json'), 'utf8')) as FixtureReference }));
}

/** One document of `rows` tokens, none special: what the core eval reads. */
export function tableOf(x: Float32Array, rows: number, dIn: number): ActivationTable {
  return {
    dModel: dIn,
    dtype: 'float32',
    count: rows,
    values: x,
    tokenIds: new Int32Array(rows),
    rowIds: new Int32Array(rows),
    positions: Int32Array.from({ length: rows }, (_, i) => i),
    docIndex: new Int32Array(rows),
    isSpecial: new Uint8Array(rows),
    sourceSets: [],
  };
}

/** The core family's reconstruction and sparsity metrics of `sae` on x, through the eval's own token pass. */
export async function coreMetrics(sae: SaeForEval, x: Float32Array, rows: number): Promise<ReconstructionMetrics> {
  const accumulator = new CoreMetricsAccumulator(sae.dIn, sae.dSae);
  await runTokenPass(tableOf(x, rows, sae.dIn), sae, { batchPrompts: 4, maxBatches: null }, [accumulator], defaultStageContext());
  return accumulator.finish().metrics;
}

/** |actual - expected| <= tol * max(|expected|, 1) elementwise, with the worst index in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol * scale, `${label}: max |diff| ${worst} at ${at} (${actual[at]} vs ${expected[at]}) exceeds ${tol} x ${scale}`);
}

/** Which latents are non-zero, per row, as strings (exact comparison of active sets). */
export function activeSets(latents: ArrayLike<number>, rows: number, dSae: number): string[] {
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: dSae }, (_, i) => i)
      .filter((i) => latents[r * dSae + i] !== 0)
      .join(','),
  );
}
