/**
 * Owns the onnxruntime session of the step graph and the training state between runs. State
 * lives in plain Float32Arrays (what checkpoints save); each run feeds them zero-copy and takes
 * the run's outputs as the new state.
 */
import { createSession, Tensor, type Device, type InferenceSession } from '../../lib/onnx/backend.js';
import type { TrainConfig } from '../../schemas/train.js';
import { buildStepGraph, type StepGraph, type StepGraphDims } from './step-graph.js';
import type { ParamSpec } from './variants/types.js';

/** Everything a step depends on besides the data: saved whole in checkpoints. */
export interface TrainState {
  /** Optimizer steps done. */
  step: number;
  params: Record<string, Float32Array>;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
  /** Variant state (adaptive coefficients, threshold EMA), scalars. */
  variantState: Record<string, Float32Array>;
  /** [n] valid tokens since each latent last fired (dead-latent tracking). */
  sinceFired: Float32Array;
}

/** One run's batch data: M steps of `rows` tokens. */
export interface RunBatch {
  steps: number;
  xs: Float32Array | Uint16Array;
  tokenMasks?: Float32Array;
  pairMasks?: Float32Array;
}

export interface RunResult {
  /** [steps, metricNames.length] per-step metrics. */
  metrics: Float32Array;
  accumulators: Record<string, Float32Array>;
}

export class StepRunner {
  private constructor(
    readonly graph: StepGraph,
    private readonly session: InferenceSession,
    private readonly dims: StepGraphDims,
    private readonly dataType: 'float16' | 'float32',
  ) {}

  static async create(cfg: TrainConfig, dims: StepGraphDims, dataType: 'float16' | 'float32', device: Device, threads = 0): Promise<StepRunner> {
    const graph = buildStepGraph(cfg, dims, dataType);
    const session = await createSession(graph.model, { device, intraOpThreads: threads });
    return new StepRunner(graph, session, dims, dataType);
  }

  get paramSpecs(): ParamSpec[] {
    return this.graph.params;
  }

  /** Runs batch.steps optimizer steps, replacing `state`'s arrays with the results. */
  async run(state: TrainState, batch: RunBatch, schedule: Float32Array, normScale: number): Promise<RunResult> {
    const { rows, dIn, dSae } = this.dims;
    const m = batch.steps;
    const feeds: Record<string, Tensor> = {
      trip: new Tensor('int64', BigInt64Array.of(BigInt(m)), []),
      xs: new Tensor(this.dataType, batch.xs, [m, rows, dIn]),
      schedule: new Tensor('float32', schedule, [m, schedule.length / m]),
      normScale: new Tensor('float32', Float32Array.of(normScale), []),
      sinceFired: new Tensor('float32', state.sinceFired, [dSae]),
    };
    if (batch.tokenMasks) feeds.tokenMasks = new Tensor('float32', batch.tokenMasks, [m, rows]);
    if (batch.pairMasks) feeds.pairMasks = new Tensor('float32', batch.pairMasks, [m, rows]);
    for (const p of this.graph.params) {
      feeds[`param:${p.name}`] = new Tensor('float32', state.params[p.name], p.shape);
      feeds[`m:${p.name}`] = new Tensor('float32', state.m[p.name], p.shape);
      feeds[`v:${p.name}`] = new Tensor('float32', state.v[p.name], p.shape);
    }
    for (const s of this.graph.state) feeds[`state:${s}`] = new Tensor('float32', state.variantState[s], []);
    const out = await this.session.run(feeds);
    const data = (name: string) => out[name].data as Float32Array;
    for (const p of this.graph.params) {
      state.params[p.name] = data(`next:param:${p.name}`);
      state.m[p.name] = data(`next:m:${p.name}`);
      state.v[p.name] = data(`next:v:${p.name}`);
    }
    for (const s of this.graph.state) state.variantState[s] = data(`next:state:${s}`);
    state.sinceFired = data('next:sinceFired');
    state.step += m;
    const accumulators = Object.fromEntries(this.graph.accumulators.map((a) => [a, data(`acc:${a}`)]));
    return { metrics: data('metrics'), accumulators };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
