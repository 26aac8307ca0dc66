/**
 * Streaming per-latent statistics for the feature browser, in memory bounded by d_sae (never by
 * the number of tokens): firing count, activation sum and max, a top-k min-heap of
 * (activation, token) per latent with the latent's activations on the token's context window
 * (captured when the entry enters the heap, from the same chunk, since chunks hold whole
 * context windows), and an exact histogram of non-zero activations whose range grows by powers
 * of two (bins merged pairwise when a larger value arrives), so one pass over the tokens
 * suffices without knowing each latent's scale beforehand.
 * Memory: d_sae * (k * (12 + 4 * window) + bins * 8 + 24) bytes, e.g. 65,536 latents, k 10,
 * window 17, 32 bins: 70 MB; 5,120 latents: 5.5 MB.
 */
import { badConfig } from '../../lib/core/errors.js';

export interface LatentStatsOptions {
  /** Top-activating tokens kept per latent. */
  topK: number;
  /** Histogram bins (even). */
  bins: number;
  /** Longest context window captured per top entry (0: none). */
  window: number;
}

/**
 * Context windows of the rows of one chunk: for chunk row r, `len[r]` tokens starting at table
 * row `start[r]`, the activating token at `center[r]` inside it, and `src[r * window + w]` the
 * chunk row of window token w (-1 for a special token, which reads as activation 0).
 */
export interface ChunkWindows {
  start: Int32Array;
  len: Int32Array;
  center: Int32Array;
  src: Int32Array;
}

export interface TopEntry {
  value: number;
  /** Table row of the activating token. */
  token: number;
  /** Table row of the first window token, the activating token's index in the window, and the latent's activation on each window token. */
  windowStart: number;
  center: number;
  acts: number[];
}

export class LatentStats {
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly max: Float32Array;
  /** [dSae * topK] min-heap per latent: values and entry slots (slots of latent i are i*topK..). */
  private readonly heapValue: Float32Array;
  private readonly heapSlot: Int32Array;
  private readonly heapSize: Uint16Array;
  /** Per slot: table row, window start, window length, center, and [window] activations. */
  private readonly slotToken: Int32Array;
  private readonly slotStart: Int32Array;
  private readonly slotLen: Int32Array;
  private readonly slotCenter: Int32Array;
  private readonly slotActs: Float32Array;
  /** [dSae * bins] counts; latent i covers [0, 2^histExp[i]). */
  private readonly hist: Float64Array;
  private readonly histExp: Int16Array;
  private readonly histInit: Uint8Array;
  tokens = 0;

  constructor(
    readonly dSae: number,
    readonly options: LatentStatsOptions,
  ) {
    if (options.bins % 2 !== 0 || options.bins < 2) throw badConfig(`feature browser histogramBins must be even and >= 2, got ${options.bins}`);
    if (!Number.isInteger(options.topK) || options.topK < 1 || options.topK > 1000) throw badConfig(`feature browser topContexts must be an integer in 1..1000, got ${options.topK}`);
    this.count = new Float64Array(dSae);
    this.sum = new Float64Array(dSae);
    this.max = new Float32Array(dSae);
    this.heapValue = new Float32Array(dSae * options.topK);
    this.heapSlot = new Int32Array(dSae * options.topK);
    this.heapSize = new Uint16Array(dSae);
    this.slotToken = new Int32Array(dSae * options.topK);
    this.slotStart = new Int32Array(dSae * options.topK);
    this.slotLen = new Int32Array(dSae * options.topK);
    this.slotCenter = new Int32Array(dSae * options.topK);
    this.slotActs = new Float32Array(dSae * options.topK * options.window);
    this.hist = new Float64Array(dSae * options.bins);
    this.histExp = new Int16Array(dSae);
    this.histInit = new Uint8Array(dSae);
  }

  /**
   * Adds a chunk of latent activations.
   * @param acts [rows, dSae] row-major activations
   * @param tokenRows [rows] table row of each activation row
   * @param windows context windows of the chunk rows (required when options.window > 0)
   * @param active [rows] 0 for rows to skip (special tokens), all rows when omitted
   */
  addChunk(acts: Float32Array, rows: number, tokenRows: ArrayLike<number>, windows?: ChunkWindows, active?: Uint8Array): void {
    const d = this.dSae;
    for (let r = 0; r < rows; r++) {
      if (active && !active[r]) continue;
      const base = r * d;
      for (let i = 0; i < d; i++) {
        const a = acts[base + i];
        if (!(a > 0)) continue;
        this.count[i]++;
        this.sum[i] += a;
        if (a > this.max[i]) this.max[i] = a;
        const slot = this.pushTop(i, a);
        if (slot >= 0) this.fillSlot(slot, i, r, tokenRows[r], acts, windows);
        this.addHist(i, a);
      }
      this.tokens++;
    }
  }

  /** Top-k entries of a latent, strongest first (ties: earlier token first). */
  top(latent: number): TopEntry[] {
    const k = this.options.topK;
    const W = this.options.window;
    const out: TopEntry[] = [];
    for (let j = 0; j < this.heapSize[latent]; j++) {
      const s = this.heapSlot[latent * k + j];
      out.push({
        value: this.heapValue[latent * k + j],
        token: this.slotToken[s],
        windowStart: this.slotStart[s],
        center: this.slotCenter[s],
        acts: Array.from(this.slotActs.subarray(s * W, s * W + this.slotLen[s])),
      });
    }
    return out.sort((a, b) => b.value - a.value || a.token - b.token);
  }

  private fillSlot(slot: number, latent: number, r: number, token: number, acts: Float32Array, windows: ChunkWindows | undefined): void {
    this.slotToken[slot] = token;
    const W = this.options.window;
    if (!windows || W === 0) {
      this.slotStart[slot] = token;
      this.slotLen[slot] = 0;
      this.slotCenter[slot] = 0;
      return;
    }
    const len = Math.min(W, windows.len[r]);
    this.slotStart[slot] = windows.start[r];
    this.slotLen[slot] = len;
    this.slotCenter[slot] = windows.center[r];
    for (let w = 0; w < len; w++) {
      const src = windows.src[r * W + w];
      this.slotActs[slot * W + w] = src >= 0 ? acts[src * this.dSae + latent] : 0;
    }
  }

  /** Histogram of the non-zero activations: edges [b+1], counts [b] (trailing empty bins trimmed). */
  histogram(latent: number): { edges: number[]; counts: number[] } {
    if (!this.histInit[latent]) return { edges: [], counts: [] };
    const bins = this.options.bins;
    const width = 2 ** this.histExp[latent] / bins;
    const counts = Array.from(this.hist.subarray(latent * bins, (latent + 1) * bins));
    let last = counts.length;
    while (last > 1 && counts[last - 1] === 0) last--;
    return { edges: Array.from({ length: last + 1 }, (_, j) => j * width), counts: counts.slice(0, last) };
  }

  /** Offers activation a to latent i's heap; returns the slot the new entry took, or -1. */
  private pushTop(i: number, a: number): number {
    const k = this.options.topK;
    const base = i * k;
    const size = this.heapSize[i];
    if (size < k) {
      const slot = base + size;
      let j = size;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (this.heapValue[base + parent] <= a) break;
        this.heapValue[base + j] = this.heapValue[base + parent];
        this.heapSlot[base + j] = this.heapSlot[base + parent];
        j = parent;
      }
      this.heapValue[base + j] = a;
      this.heapSlot[base + j] = slot;
      this.heapSize[i] = size + 1;
      return slot;
    }
    if (a <= this.heapValue[base]) return -1; // ties keep the earlier token
    // The evicted root's slot is reused; sift the new value down from the root.
    const slot = this.heapSlot[base];
    let j = 0;
    for (;;) {
      const l = 2 * j + 1;
      if (l >= k) break;
      const r = l + 1;
      const c = r < k && this.heapValue[base + r] < this.heapValue[base + l] ? r : l;
      if (this.heapValue[base + c] >= a) break;
      this.heapValue[base + j] = this.heapValue[base + c];
      this.heapSlot[base + j] = this.heapSlot[base + c];
      j = c;
    }
    this.heapValue[base + j] = a;
    this.heapSlot[base + j] = slot;
    return slot;
  }

  private addHist(i: number, a: number): void {
    const bins = this.options.bins;
    const base = i * bins;
    if (!this.histInit[i]) {
      // Smallest power of two strictly above the first value.
      this.histExp[i] = Math.floor(Math.log2(a)) + 1;
      this.histInit[i] = 1;
    }
    while (a >= 2 ** this.histExp[i]) {
      const half = bins / 2;
      for (let j = 0; j < half; j++) this.hist[base + j] = this.hist[base + 2 * j] + this.hist[base + 2 * j + 1];
      this.hist.fill(0, base + half, base + bins);
      this.histExp[i]++;
    }
    const bin = Math.min(bins - 1, Math.floor((a / 2 ** this.histExp[i]) * bins));
    this.hist[base + bin]++;
  }
}
