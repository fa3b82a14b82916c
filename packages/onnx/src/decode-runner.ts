import { CACHE_CHUNK, OnnxKvCache } from './onnx-kv-cache.js';
import type { Ort } from './runtime.js';

/** An ONNX Runtime inference session. */
export type OrtSession = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/**
 * The settings every irpo session is created with: `threads` intra-op threads, sequential
 * execution, all graph optimisations, the given execution providers.
 */
export function sessionSettings(threads: number, executionProviders: string[]) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
    executionProviders,
  };
}

/** What sizes a decode cache: the model's layers, KV heads and head size. */
export interface CacheDims {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/**
 * Prefill and one-token decoding over a session of the decode graph (buildLlamaGraph 'decode'),
 * with the cache on the host (OnnxKvCache). Imports neither TensorFlow.js nor the model package, so
 * a decoder worker thread loads only this and ONNX Runtime.
 */
export class DecodeRunner {
  constructor(
    private readonly ort: Ort,
    private readonly session: () => Promise<OrtSession>,
    readonly dims: CacheDims,
  ) {}

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
    const { layers, kvHeads, headDim } = this.dims;
    const empty = OnnxKvCache.none(batch, layers, kvHeads, headDim);
    const cache = OnnxKvCache.create(batch, length + maxNewTokens, layers, kvHeads, headDim);
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
    const s = await this.session();
    const { Tensor } = this.ort;
    const cap = past.capacity;
    const mask = new Float32Array(batch * (cap + length));
    for (let r = 0; r < batch; r++) {
      mask.set(past.keyMask.subarray(r * cap, (r + 1) * cap), r * (cap + length));
      for (let t = 0; t < length; t++) mask[r * (cap + length) + cap + t] = newMask[r * length + t]!;
    }
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = inputFeeds(this.ort, ids, positions, mask, batch, length);
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
}

/** The inputs every graph kind takes: ids int64 [B, S], positions [B, S], the mask over all key columns [B, L]. */
export function inputFeeds(
  ort: Ort,
  ids: ArrayLike<number>,
  positions: Float32Array,
  mask: ArrayLike<number>,
  batch: number,
  length: number,
) {
  const { Tensor } = ort;
  const keys = mask.length / batch;
  return {
    input_ids: new Tensor('int64', toInt64(ids), [batch, length]),
    position_ids: new Tensor('float32', positions, [batch, length]),
    attention_mask: new Tensor('float32', mask instanceof Float32Array ? mask : Float32Array.from(mask), [batch, keys]),
  };
}

export function toInt64(a: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
  return out;
}
