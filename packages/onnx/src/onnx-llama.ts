import type { ModelSpec } from '@irpo/contracts';
import { headDimOf, readCheckpointTensors, readModelSpec, expectedWeightShapes } from '@irpo/model';
import { buildLlamaGraph, type LlamaGraphKind } from './llama-graph.js';
import { CACHE_CHUNK, OnnxKvCache } from './onnx-kv-cache.js';
import { loadOrt, ortThreads, type Ort } from './runtime.js';

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

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
  private readonly sessions = new Map<LlamaGraphKind, Promise<Session>>();
  private readonly threads: number;

  private constructor(
    readonly spec: ModelSpec,
    private readonly weights: Map<string, Float32Array>,
    private readonly ort: Ort,
    private readonly options: OnnxLlamaOptions,
  ) {
    this.threads = ortThreads(options.threads);
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
  session(kind: LlamaGraphKind): Promise<Session> {
    let s = this.sessions.get(kind);
    if (!s) {
      const bytes = buildLlamaGraph(this.spec, (name) => this.weights.get(name)!, kind, { fused: this.options.fused }).encode();
      s = this.ort.InferenceSession.create(bytes, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        executionProviders: this.options.executionProviders ?? ['cpu'],
      });
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

  /**
   * LEFT-padded prompt ids and mask [B, T] → last-position logits [B, V] and the cache. Positions
   * count each row's real tokens (pads at 0), as the TensorFlow.js model's prefill. `maxNewTokens`
   * sizes the cache (it grows past that in CACHE_CHUNK steps).
   */
  async prefill(
    inputIds: ArrayLike<number>,
    attentionMask: ArrayLike<number>,
    batch: number,
    length: number,
    maxNewTokens = CACHE_CHUNK,
  ): Promise<{ logits: Float32Array; cache: OnnxKvCache }> {
    const positions = new Float32Array(batch * length);
    const next = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      let seen = 0;
      for (let t = 0; t < length; t++) {
        if (attentionMask[b * length + t]) seen++;
        positions[b * length + t] = Math.max(0, seen - 1);
      }
      next[b] = seen;
    }
    const empty = OnnxKvCache.none(batch, this.spec.numLayers, this.spec.numKvHeads, headDimOf(this.spec));
    const cache = OnnxKvCache.create(batch, length + maxNewTokens, this.spec.numLayers, this.spec.numKvHeads, headDimOf(this.spec));
    const logits = await this.step(inputIds, positions, attentionMask, batch, length, empty, cache);
    cache.nextPositions.set(next);
    return { logits, cache };
  }

  /** One token per row [B] → logits [B, V]; the cache grows by one column. */
  async decode(tokens: ArrayLike<number>, cache: OnnxKvCache): Promise<Float32Array> {
    const b = cache.batch;
    if (tokens.length !== b) throw new Error(`decode: ${tokens.length} tokens for a cache of ${b} rows`);
    const positions = cache.nextPositions.slice(0, b);
    const logits = await this.step(tokens, positions, new Float32Array(b).fill(1), b, 1, cache, cache);
    for (let r = 0; r < b; r++) cache.nextPositions[r]! += 1;
    return logits;
  }

  /**
   * Runs the decode graph over `past` (its whole capacity; the mask hides unfilled columns) and
   * `ids` [B, S] with their mask [B, S], then appends the new keys and values to `into`.
   */
  private async step(
    ids: ArrayLike<number>,
    positions: Float32Array,
    newMask: ArrayLike<number>,
    batch: number,
    length: number,
    past: OnnxKvCache,
    into: OnnxKvCache,
  ): Promise<Float32Array> {
    const s = await this.session('decode');
    const { Tensor } = this.ort;
    const cap = past.capacity;
    const mask = new Float32Array(batch * (cap + length));
    for (let r = 0; r < batch; r++) {
      mask.set(past.keyMask.subarray(r * cap, (r + 1) * cap), r * (cap + length));
      for (let t = 0; t < length; t++) mask[r * (cap + length) + cap + t] = newMask[r * length + t]!;
    }
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = this.feeds(ids, positions, mask, batch, length);
    const pastDims = [batch, past.kvHeads, cap, past.headDim];
    for (let l = 0; l < past.layers; l++) {
      const { keys, values } = past.pastOf(l);
      feeds[`past_key.${l}`] = new Tensor('float32', keys, pastDims);
      feeds[`past_value.${l}`] = new Tensor('float32', values, pastDims);
    }
    const out = await s.run(feeds);
    const layers = Array.from({ length: past.layers }, (_, l) => l);
    into.append(
      layers.map((l) => out[`new_key.${l}`]!.data as Float32Array),
      layers.map((l) => out[`new_value.${l}`]!.data as Float32Array),
      newMask,
      length,
    );
    return out['logits']!.data as Float32Array;
  }

  private feeds(ids: ArrayLike<number>, positions: Float32Array, mask: ArrayLike<number>, batch: number, length: number) {
    const { Tensor } = this.ort;
    const keys = mask.length / batch;
    return {
      input_ids: new Tensor('int64', toInt64(ids), [batch, length]),
      position_ids: new Tensor('float32', positions, [batch, length]),
      attention_mask: new Tensor('float32', mask instanceof Float32Array ? mask : Float32Array.from(mask), [batch, keys]),
    };
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

function toInt64(a: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
  return out;
}
