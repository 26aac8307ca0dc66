import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { fileExists, writeFileAtomic, writeJsonAtomic } from '../../lib/core/atomic-fs.js';
import type { WordInputs } from './absorption/absorption-inputs.js';
import type { TaskCheckpoint } from './eval-sparse-probing.js';
import type { TaskProbeResult } from './sparse-probing.js';

/** Files the evaluate stage writes into an SAE's eval folder. */
export const EVAL_FILES = {
  core: 'core.json',
  coreFeatureStats: 'core-feature-stats.json',
  absorption: 'absorption.json',
  absorptionWords: 'absorption-words.json',
  absorptionResiduals: 'absorption-words.bin',
  sparse_probing: 'sparse_probing.json',
  sparseProbingTasks: 'sparse-probing-tasks',
  temporal: 'temporal.json',
  temporalActivity: 'temporal-activity.bin',
  temporalActivityInfo: 'temporal-activity.json',
} as const;

/** A previously written output that still parses, or null (absent, torn or from another schema). */
export async function readValidJson<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T> | null> {
  if (!(await fileExists(path))) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Little-endian float32 file (Node's typed arrays are little-endian on every supported platform). */
export async function writeFloat32(path: string, values: Float32Array): Promise<void> {
  await writeFileAtomic(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export async function readFloat32(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Per-task sparse-probing results under `<dir>/sparse-probing-tasks/`, keyed by task and config. */
export function fileTaskCheckpoint(dir: string, configKey: string): TaskCheckpoint {
  const path = (task: string) => join(dir, EVAL_FILES.sparseProbingTasks, `${encodeURIComponent(task)}.json`);
  return {
    async load(task) {
      if (!(await fileExists(path(task)))) return null;
      try {
        const body = JSON.parse(await readFile(path(task), 'utf8')) as { configKey: string; result: TaskProbeResult };
        return body.configKey === configKey ? body.result : null;
      } catch {
        return null;
      }
    },
    async save(task, result) {
      await writeJsonAtomic(path(task), { configKey, result });
    },
  };
}

/** Saves the absorption word residuals (the expensive model passes) for a resumed attempt. */
export async function saveWordInputs(dir: string, configKey: string, inputs: WordInputs): Promise<void> {
  const { train, test, absorptionActs } = inputs;
  const all = new Float32Array(train.acts.length + test.acts.length * 2);
  all.set(train.acts, 0);
  all.set(test.acts, train.acts.length);
  all.set(absorptionActs ?? test.acts, train.acts.length + test.acts.length);
  await writeFloat32(join(dir, EVAL_FILES.absorptionResiduals), all);
  await writeJsonAtomic(join(dir, EVAL_FILES.absorptionWords), { configKey, dIn: inputs.dIn, trainWords: inputs.trainWords, testWords: inputs.testWords });
}

export async function loadWordInputs(dir: string, configKey: string, letterOf: (w: string) => number): Promise<WordInputs | null> {
  const info = join(dir, EVAL_FILES.absorptionWords);
  const bin = join(dir, EVAL_FILES.absorptionResiduals);
  if (!(await fileExists(info)) || !(await fileExists(bin))) return null;
  const meta = JSON.parse(await readFile(info, 'utf8')) as { configKey: string; dIn: number; trainWords: string[]; testWords: string[] };
  const all = await readFloat32(bin);
  const nTrain = meta.trainWords.length * meta.dIn;
  const nTest = meta.testWords.length * meta.dIn;
  if (meta.configKey !== configKey || all.length !== nTrain + 2 * nTest) return null;
  return {
    dIn: meta.dIn,
    train: { acts: all.subarray(0, nTrain), letters: Int32Array.from(meta.trainWords, letterOf) },
    test: { acts: all.subarray(nTrain, nTrain + nTest), letters: Int32Array.from(meta.testWords, letterOf), words: meta.testWords },
    absorptionActs: all.subarray(nTrain + nTest),
    trainWords: meta.trainWords,
    testWords: meta.testWords,
  };
}
