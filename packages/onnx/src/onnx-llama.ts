import type { ModelSpec } from '@irpo/contracts';
import { headDimOf, readCheckpointTensors, readModelSpec, expectedWeightShapes } from '@irpo/model';
import { buildLlamaGraph, type LlamaGraphKind } from './llama-graph.js';
import { DecodeRunner, inputFeeds, sessionSettings, toInt64, type OrtSession } from './decode-runner.js';
import { CACHE_CHUNK, type OnnxKvCache } from './onnx-kv-cache.js';
import { loadOrt, ortThreads, type Ort } from './runtime.js';

export interface OnnxLlamaOptions {
  /** Intra-op threads (default: one per core). */
  threads?: number;
  /** ORT execution providers, in order of preference (default ['cpu']; 'cuda' needs the CUDA build). */
  executionProviders?: string[];
  /** ORT's fused kernels in the graphs (default true); false: standard ONNX ops only (LlamaGraphOptions.fused). */
  fused?: boolean;
  /** The loaded runtime (default: loadOrt(), which must succeed). */
  ort?: Ort;
}

/** A right-padded batch with per-position targets and a loss mask, as the trainer packs it. */
export interface PackedTokens {
  batch: number;
  length: number;
  inputIds: ArrayLike<number>;
  attentionMask: ArrayLike<number>;
  targets: ArrayLike<number>;
  lossMask: ArrayLike<number>;
}

/** Anything holding a spec and float32 weights by Hugging Face name (a LlamaModel: its tf variables). */
export interface WeightSource {
  readonly spec: ModelSpec;
  readonly variables: Map<string, { dataSync(): ArrayLike<number> }>;
  /** Set while a LoRA adapter is attached (LlamaModel): its weights alone are not the model. */
  readonly loraConfig?: unknown;
}

/**
 * A Llama-family model run by ONNX Runtime: the graphs are built from the spec and weights on
 * first use (scoring, decoding, or full logits), each in its own session. Inputs and outputs are
 * host arrays; generation's sampling stays with the caller.
 */
export class OnnxLlama {
  private readonly sessions = new Map<LlamaGraphKind, Promise<OrtSession>>();
  /** Intra-op threads of its sessions. */
  readonly threads: number;
  private readonly decoder: DecodeRunner;

  private constructor(
    readonly spec: ModelSpec,
    private readonly weights: Map<string, Float32Array>,
    private readonly ort: Ort,
    private readonly options: OnnxLlamaOptions,
  ) {
    this.threads = ortThreads(options.threads);
    this.decoder = new DecodeRunner(ort, () => this.session('decode'), {
      layers: spec.numLayers,
      kvHeads: spec.numKvHeads,
      headDim: headDimOf(spec),
    });
    for (const [name, shape] of expectedWeightShapes(spec)) {
      const w = weights.get(name);
      if (!w) throw new Error(`OnnxLlama: missing weight ${name}`);
      const n = shape.reduce((a, b) => a * b, 1);
      if (w.length !== n) throw new Error(`OnnxLlama: weight ${name} has ${w.length} values, expected [${shape.join(', ')}]`);
    }
  }

  /** From float32 weights by Hugging Face name (kept, not copied). */
  static async fromWeights(spec: ModelSpec, weights: Map<string, Float32Array>, options: OnnxLlamaOptions = {}): Promise<OnnxLlama> {
    return new OnnxLlama(spec, weights, options.ort ?? (await requireOrt()), options);
  }

  /** A snapshot of an in-memory model's weights (LoRA adapters must be merged first). */
  static async fromModel(model: WeightSource, options: OnnxLlamaOptions = {}): Promise<OnnxLlama> {
    if (model.loraConfig !== undefined) throw new Error('OnnxLlama.fromModel: a LoRA adapter is attached; merge it first (mergeLora)');
    const weights = new Map<string, Float32Array>();
    for (const name of expectedWeightShapes(model.spec).keys()) {
      const v = model.variables.get(name);
      if (!v) throw new Error(`OnnxLlama.fromModel: the model has no ${name}`);
      weights.set(name, Float32Array.from(v.dataSync()));
    }
    return OnnxLlama.fromWeights(model.spec, weights, options);
  }

  /** From a Hugging Face checkpoint folder (config.json, safetensors in F32, F16 or BF16). */
  static async fromCheckpoint(dir: string, options: OnnxLlamaOptions = {}): Promise<OnnxLlama> {
    const spec = await readModelSpec(dir);
    const { tensors } = await readCheckpointTensors(dir);
    const weights = new Map<string, Float32Array>();
    for (const name of expectedWeightShapes(spec).keys()) {
      const t = tensors.get(name);
      if (t) weights.set(name, t.data);
    }
    return OnnxLlama.fromWeights(spec, weights, options);
  }

  /** The session of one graph, built on first use. */
  session(kind: LlamaGraphKind): Promise<OrtSession> {
    let s = this.sessions.get(kind);
    if (!s) {
      s = this.ort.InferenceSession.create(this.graphBytes(kind), sessionSettings(this.threads, this.executionProviders));
      this.sessions.set(kind, s);
    }
    return s;
  }

  /** Right-padded ids and mask [B, T] → logits [B, T, V] (positions 0.. in every row, as HF without position_ids). */
  async logits(inputIds: ArrayLike<number>, attentionMask: ArrayLike<number>, batch: number, length: number): Promise<Float32Array> {
    const s = await this.session('logits');
    const out = await s.run(this.feeds(inputIds, rightPaddedPositions(batch, length), attentionMask, batch, length));
    return out['logits']!.data as Float32Array;
  }

  /**
   * log p(targets[i]) at flat positions[i] (b·T + t) of a right-padded batch [B, T] → [N]; the
   * log-softmax runs in the graph.
   */
  async tokenLogps(
    inputIds: ArrayLike<number>,
    attentionMask: ArrayLike<number>,
    batch: number,
    length: number,
    positions: ArrayLike<number>,
    targets: ArrayLike<number>,
  ): Promise<Float32Array> {
    const s = await this.session('score');
    const n = positions.length;
    const feeds = {
      ...this.feeds(inputIds, rightPaddedPositions(batch, length), attentionMask, batch, length),
      positions: new this.ort.Tensor('int64', toInt64(positions), [n]),
      targets: new this.ort.Tensor('int64', toInt64(targets), [n]),
    };
    const out = await s.run(feeds);
    return out['logps']!.data as Float32Array;
  }

  /** Summed log-probs of each row's masked targets (the trainer's packed batch) → [B]. */
  async sequenceLogps(b: PackedTokens): Promise<number[]> {
    const positions: number[] = [];
    for (let i = 0; i < b.lossMask.length; i++) if (b.lossMask[i]) positions.push(i);
    const sums = new Array<number>(b.batch).fill(0);
    if (positions.length === 0) return sums;
    const logps = await this.tokenLogps(
      b.inputIds,
      b.attentionMask,
      b.batch,
      b.length,
      positions,
      positions.map((i) => b.targets[i]!),
    );
    positions.forEach((p, i) => (sums[Math.floor(p / b.length)]! += logps[i]!));
    return sums;
  }

  /** LEFT-padded prompts [B, T] → last-position logits [B, V] and the cache: DecodeRunner.prefill on this model's decode session. */
  prefill(
    inputIds: ArrayLike<number>,
    attentionMask: ArrayLike<number>,
    batch: number,
    length: number,
    maxNewTokens = CACHE_CHUNK,
  ): Promise<{ logits: Float32Array; cache: OnnxKvCache }> {
    return this.decoder.prefill(inputIds, attentionMask, batch, length, maxNewTokens);
  }

  /** One token per row [B] → logits [B, V]; the cache grows by one column. */
  decode(tokens: ArrayLike<number>, cache: OnnxKvCache): Promise<Float32Array> {
    return this.decoder.decode(tokens, cache);
  }

  /** One graph's ONNX bytes (ModelProto, weights inlined): what a session, or a decoder worker, loads. */
  graphBytes(kind: LlamaGraphKind): Uint8Array {
    return buildLlamaGraph(this.spec, (name) => this.weights.get(name)!, kind, { fused: this.options.fused }).encode();
  }

  /** The execution providers its sessions use (decoder workers use the same). */
  get executionProviders(): string[] {
    return this.options.executionProviders ?? ['cpu'];
  }

  private feeds(ids: ArrayLike<number>, positions: Float32Array, mask: ArrayLike<number>, batch: number, length: number) {
    return inputFeeds(this.ort, ids, positions, mask, batch, length);
  }

  async dispose(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }
}

async function requireOrt(): Promise<Ort> {
  const status = await loadOrt();
  if (!status.ok) throw new Error(`ONNX Runtime is not available: ${status.reason}`);
  return status.ort;
}

function rightPaddedPositions(batch: number, length: number): Float32Array {
  const p = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) for (let t = 0; t < length; t++) p[b * length + t] = t;
  return p;
}
