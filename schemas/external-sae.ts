import { z } from 'zod';
import { fileDigestFields, Sha256Hex } from './manifest.js';

/**
 * External SAEs ("bring your own SAE"): a folder someone else trained, evaluated beside (or
 * instead of) the spec's trained variants. stages/external-sae reads, checks and imports them.
 */
export const EXTERNAL_SAE_FORMATS = ['saelens', 'sparsify', 'dictionary_learning'] as const;
export const ExternalSaeFormat = z
  .enum(EXTERNAL_SAE_FORMATS)
  .describe(
    "Checkpoint layout: 'saelens' (cfg.json + sae_weights.safetensors, SAELens 6 and older), 'sparsify' (EleutherAI sparsify: cfg.json + sae.safetensors in a folder named after its hookpoint), 'dictionary_learning' (config.json + ae.pt, saprmarks/dictionary_learning)",
  );
export type ExternalSaeFormat = z.infer<typeof ExternalSaeFormat>;

/** How a run spec names one external SAE (proposed shape of `sae.external[i]`). */
export const ExternalSaeEntry = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
      .describe('Label in Table 1, the Pareto plots and metrics.json (letters, digits, . _ -); must differ from every trained variant label'),
    path: z.string().min(1).describe('Local folder holding the checkpoint (relative paths resolve against the spec file)'),
    format: ExternalSaeFormat.optional().describe('Checkpoint layout; detected from the files when absent'),
    hookName: z
      .string()
      .optional()
      .describe("SAELens hook name (blocks.L.hook_resid_post) for a checkpoint that does not record its hook (a renamed sparsify folder, a dictionary_learning config without submodule_name); refused if the checkpoint records a different one"),
  })
  .strict();
export type ExternalSaeEntry = z.infer<typeof ExternalSaeEntry>;

/** One file an external SAE was read from. */
export const ExternalSaeFile = z.object({
  file: z.string().describe('File name inside the folder'),
  ...fileDigestFields,
});
export type ExternalSaeFile = z.infer<typeof ExternalSaeFile>;

/** What inspecting an external SAE found: metadata, provenance and content address. */
export const ExternalSaeInfo = z.object({
  path: z.string().describe('Folder it was read from (provenance; not part of any cache key)'),
  format: ExternalSaeFormat,
  sourceArchitecture: z.string().describe("Architecture as the checkpoint declares it (e.g. 'jumprelu', 'BatchTopKSAE', 'topk')"),
  architecture: z.enum(['standard', 'topk', 'jumprelu', 'gated']).describe('Runtime architecture it is evaluated as (SAELens inference semantics)'),
  dIn: z.number().int().positive().describe('Input width d_in'),
  dSae: z.number().int().positive().describe('Number of latents d_sae'),
  k: z.number().int().positive().optional().describe('Latents kept per token (topk only)'),
  dtype: z.string().describe('Dtype the checkpoint declares or stores (float32, float16, bfloat16, float64); the runtime computes in float32'),
  hookName: z.string().describe('SAELens hook name of the hooked activation (blocks.L.hook_resid_post)'),
  sourceHookName: z.string().describe('Hook as the checkpoint (or the entry) names it, before mapping to SAELens'),
  layer: z.number().int().nonnegative().describe('Block index L of the residual stream after block L'),
  normalization: z.enum(['none', 'constant_norm_rescale', 'layer_norm']).describe('Per-token input normalisation applied around the SAE at run time (SAELens normalize_activations)'),
  transforms: z.array(z.string()).describe('Exact rewrites applied to reach the runtime form (folded input bias, decoder norms, ...)'),
  modelName: z.string().nullable().describe('Model the checkpoint names, if any (informational; d_in and the hook are what is checked)'),
  files: z.array(ExternalSaeFile).describe('Files read, with sizes and sha256'),
  sha256: Sha256Hex.describe('Content address: sha256 over the format and every file read (name, sha256); the eval cache key material'),
});
export type ExternalSaeInfo = z.infer<typeof ExternalSaeInfo>;
