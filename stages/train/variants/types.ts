import type { GraphBuilder, Val } from '../../../lib/onnx/graph-builder.js';
import type { TrainConfig } from '../../../schemas/train.js';
import type { Prng } from '../prng.js';

/** A trainable tensor: its SAELens name and shape for given d_in, d_sae. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/**
 * How a variant's step graph sees one batch. All float values are in the builder's float type.
 * Sizes are static per graph: `rows` tokens of `dIn` dims, `dSae` latents.
 */
export interface StepInputs {
  g: GraphBuilder;
  cfg: TrainConfig;
  rows: number;
  dIn: number;
  dSae: number;
  /** [rows, dIn] input activations (already cast to the float type and normalised). */
  x: Val;
  params: Record<string, Val>;
  /** Scalar sparsity warm-up factor in [0, 1] for this step; variants scale their own coefficient by it. */
  sparsityScale: Val;
  /** Scalar 0-based step number of this update (exact in float32 below 2^24). */
  step: Val;
  /** Scalar gain factor of the sparsity controller at this step (schedule.ts controlFactor). */
  controlFactor: Val;
  /** [dSae] 1 where the latent is dead (AuxK), 0 otherwise. */
  deadMask: Val;
  /** atr only: [rows] 1 for tokens in the losses, 0 for special or padding positions. */
  tokenMask?: Val;
  /** atr only: [rows] 1 where (row-1, row) is a valid temporal pair. */
  pairMask?: Val;
  /** atr only: scalar temporal coefficient alpha_t. */
  alpha?: Val;
  /** Variant state carried across steps (e.g. the batchtopk threshold EMA). */
  state: Record<string, Val>;
  /**
   * Marks a value the analytic backward treats as constant (a stop-gradient). In training it
   * returns `live`; in finite-difference graphs it returns a pinned input, so the loss being
   * differentiated numerically is exactly the one whose gradient the backward computes.
   */
  frozen(name: string, live: Val, shape: (number | string)[]): Val;
  /** 'train' for training graphs; 'fd' adds surrogate terms needed by finite-difference checks. */
  mode: 'train' | 'fd';
}

export interface StepOutputs {
  /** d loss / d param for every parameter (same keys as params). */
  grads: Record<string, Val>;
  /** Total loss (scalar). */
  loss: Val;
  /** Each loss term (scalars), e.g. mse, l1, auxk, temporal. */
  terms: Record<string, Val>;
  /** [rows, dIn] reconstruction xhat. */
  recon: Val;
  /** Mean active latents per (valid) token (scalar). */
  l0: Val;
  /** [dSae] number of (valid) tokens each latent fired on. */
  fired: Val;
  /** [rows, dSae] latent activations (dense), when the variant has them cheaply. */
  latents?: Val;
  /** [dSae] sum of `latents` over the valid tokens, when the variant computed it anyway (atr). */
  latentSums?: Val;
  /** Updated variant state (same keys as inputs.state). */
  state: Record<string, Val>;
  /** Extra scalars for metrics (e.g. threshold). */
  extra: Record<string, Val>;
}

/** Everything the trainer needs from one variant. */
export interface Variant {
  name: TrainConfig['variant'];
  /** Parameters in SAELens names and shapes. */
  params(dIn: number, dSae: number): ParamSpec[];
  /** Decoder parameter kept at unit row norm (W_dec) when decoderUnitNorm is on. */
  decoder: string;
  /** Initial parameters; `bDec` is the data-derived decoder bias. */
  init(dIn: number, dSae: number, cfg: TrainConfig, rng: Prng, bDec: Float32Array): Record<string, Float32Array>;
  /** Variant state: names and initial values (scalars). */
  initialState(cfg: TrainConfig, dIn: number): Record<string, Float32Array>;
  /** Learning-rate multipliers of some parameters (default 1). */
  lrScales?(cfg: TrainConfig): Record<string, number>;
  /**
   * Data-dependent initialisation after `init` and `initialState`, from the init sample x [rows, dIn]
   * in normalised units: new parameters and state (e.g. a data-derived sparsity coefficient).
   */
  initFromSample?(
    init: { params: Record<string, Float32Array>; state: Record<string, Float32Array> },
    sample: { x: Float32Array; rows: number },
    cfg: TrainConfig,
    dIn: number,
  ): Promise<{ params: Record<string, Float32Array>; state: Record<string, Float32Array> }>;
  /** Builds forward, losses and analytic backward of one step. */
  buildStep(inputs: StepInputs): StepOutputs;
}
