/**
 * The small interfaces the evaluate stage codes against. Other stages provide them (the
 * training engineer's `loadSae`, the model engineer's splice over the real suffix graph, the
 * corpus engineer's tokenizer and probe tasks); the lead glues them in the activity layer.
 */

/** A trained SAE as the evals see it. All tensors row-major float32. */
export interface SaeForEval {
  readonly dIn: number;
  readonly dSae: number;
  /** x: [rows, dIn] -> latents f: [rows, dSae]. */
  encode(x: Float32Array, rows: number): Promise<Float32Array>;
  /** x: [rows, dIn] -> latents [rows, dSae] and reconstruction xhat [rows, dIn]. */
  forward(x: Float32Array, rows: number): Promise<{ latents: Float32Array; reconstruction: Float32Array }>;
  /** Decoder directions W_dec: [dSae, dIn] (row i is latent i's output direction). */
  decoderRows(): Float32Array;
}

/**
 * Runs the language model around the hooked layer.
 *
 * Per-token convention for every returned array: [batch * seqLen], entry (b, t) is the loss of
 * predicting token t + 1 from positions <= t for `ce*`, and KL(p_clean || p_replaced) of the
 * next-token distribution at t (summed over the vocabulary) for `kl`. Entries at t = seqLen - 1
 * of `ce*` have no target and must be NaN. The caller masks special positions.
 */
export interface Splicer {
  /**
   * @param inputIds  [batch, seqLen]
   * @param clean  the hooked residual of the clean run, [batch, seqLen, dIn]
   * @param replacements  residuals spliced in place of `clean`, each [batch, seqLen, dIn]
   */
  spliceLosses(args: {
    inputIds: Int32Array;
    batch: number;
    seqLen: number;
    clean: Float32Array;
    replacements: Float32Array[];
  }): Promise<{ ceClean: Float32Array; ce: Float32Array[]; kl: Float32Array[] }>;
  /** The hooked residual for inputIds [batch, seqLen] -> [batch, seqLen, dIn]. */
  residuals(inputIds: Int32Array, batch: number, seqLen: number): Promise<Float32Array>;
}

/** The tokenizer of the evaluated model. */
export interface EvalTokenizer {
  /** Token ids of `text`, including a BOS when the model's tokenizer adds one. */
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** Decoded string of every vocabulary entry, index = token id. */
  vocab(): string[];
  /** Ids of BOS / EOS / PAD and other special tokens (excluded from pooling and metrics). */
  specialIds: readonly number[];
  /** The id used to right-pad a batch (a special token). */
  padId: number;
}

/** One labelled text of a probing task (the corpus stage's probe-tasks yield these). */
export interface ProbeExample {
  text: string;
  label: string;
  task: string;
  /** A fixed split (the corpus stage assigns one by document hash); random 80/20 when absent. */
  split?: 'train' | 'test';
}
