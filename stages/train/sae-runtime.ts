/**
 * loadSae: a trained SAE folder (cfg.json + sae.safetensors, SAELens layout) as a runtime for the
 * evaluation stage. The forward graph takes the weights as inputs, fed zero-copy on every run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession, Tensor, type Device, type InferenceSession } from '../../lib/onnx/backend.js';
import { badInput } from '../../lib/core/errors.js';
import { fileExists } from '../../lib/core/atomic-fs.js';
import { architectureWeights, buildForwardGraph, SAE_ARCHITECTURES, type SaeArchitecture } from './forward-graph.js';
import { readSafetensors } from './safetensors.js';

/** cfg.json fields this runtime reads (SAELens 6 layout); other fields are kept as they are. */
export interface SaeLensConfig {
  architecture: string;
  d_in: number;
  d_sae: number;
  /** topk only. */
  k?: number;
  metadata?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface SaeRuntime {
  /** cfg.json as written by the export (SAELens fields plus metadata). */
  cfg: SaeLensConfig;
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  /** x [rows, dIn] -> latents [rows, dSae]. */
  encode(x: Float32Array, rows: number): Promise<Float32Array>;
  /** x [rows, dIn] -> latents [rows, dSae] and reconstruction [rows, dIn]. */
  forward(x: Float32Array, rows: number): Promise<{ latents: Float32Array; reconstruction: Float32Array }>;
  /** W_dec [dSae, dIn], row i is latent i's decoder direction. */
  decoderRows(): Float32Array;
  /** Encoder-side weights: W_enc [dIn, dSae], biases and threshold as the architecture has them. */
  encoderWeights(): Record<string, Float32Array>;
  dispose(): Promise<void>;
}

export async function loadSae(folder: string, options: { device?: Device; threads?: number } = {}): Promise<SaeRuntime> {
  const cfgPath = join(folder, 'cfg.json');
  let cfg: SaeLensConfig;
  try {
    cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  } catch (error) {
    throw badInput(`${cfgPath}: cannot read SAE config (${(error as Error).message})`);
  }
  const architecture = cfg.architecture as SaeArchitecture;
  if (!SAE_ARCHITECTURES.includes(architecture)) {
    throw badInput(`${cfgPath}: architecture '${cfg.architecture}' is not supported; allowed: ${SAE_ARCHITECTURES.join(', ')}`);
  }
  const dIn = Number(cfg.d_in);
  const dSae = Number(cfg.d_sae);
  const weightsPath = (await fileExists(join(folder, 'sae.safetensors'))) ? join(folder, 'sae.safetensors') : join(folder, 'sae_weights.safetensors');
  const { tensors } = await readSafetensors(weightsPath);
  const feeds: Record<string, Tensor> = {};
  for (const spec of architectureWeights(architecture, dIn, dSae)) {
    const t = tensors[spec.name];
    if (!t || t.shape.join('x') !== spec.shape.join('x')) {
      throw badInput(`${weightsPath}: tensor '${spec.name}' must have shape [${spec.shape}] for ${architecture} (found ${t ? `[${t.shape}]` : 'none'})`);
    }
    feeds[spec.name] = new Tensor('float32', t.data, spec.shape);
  }
  const model = buildForwardGraph({ architecture, dIn, dSae, k: cfg.k });
  const session: InferenceSession = await createSession(model, { device: options.device ?? 'cpu', intraOpThreads: options.threads ?? 0 });
  const run = async (x: Float32Array, rows: number, fetches: string[]) => {
    if (x.length !== rows * dIn) throw badInput(`SAE input has ${x.length} values; expected rows (${rows}) x d_in (${dIn})`);
    return session.run({ ...feeds, x: new Tensor('float32', x, [rows, dIn]) }, fetches);
  };
  return {
    cfg,
    architecture,
    dIn,
    dSae,
    async encode(x, rows) {
      return (await run(x, rows, ['latents'])).latents.data as Float32Array;
    },
    async forward(x, rows) {
      const out = await run(x, rows, ['latents', 'reconstruction']);
      return { latents: out.latents.data as Float32Array, reconstruction: out.reconstruction.data as Float32Array };
    },
    decoderRows: () => tensors.W_dec.data,
    encoderWeights: () => Object.fromEntries(Object.entries(tensors).filter(([name]) => name !== 'W_dec' && name !== 'b_dec').map(([name, t]) => [name, t.data])),
    dispose: () => session.release(),
  };
}
