import { mulberry32 } from '@irpo/contracts';
import { tf } from '@irpo/core';
import { padIdOf, type PromptFormat } from '@irpo/model';
import type { Completion, Engine, GenerateRequest } from './engine.js';
import { promptSeed, sampleSeed } from './generation/rng.js';
import { sampleToken, type SamplingParams } from './generation/sample-token.js';
import { logSoftmaxAt } from './generation/softmax.js';
import { StopMatcher } from './generation/stop-matcher.js';
import { Semaphore } from './semaphore.js';
import { validateRequest, type ValidRequest } from './validate-request.js';
import type { CausalLM, KvCache, Tokenizer } from './types.js';

export interface LocalEngineOptions {
  /** Most sequences decoded together (default 32): bounds the KV cache's memory. */
  maxBatchSize?: number;
  /** Let the tokenizer add BOS etc. to prompts (default true, as Hugging Face does; a promptFormat decides instead). */
  addSpecialTokens?: boolean;
  /**
   * How prompts become the text the model reads (@irpo/model promptFormat): with a chat format
   * each prompt is rendered as the template's user turn and encoded without added special
   * tokens. Absent: prompts are encoded as they are.
   */
  promptFormat?: PromptFormat;
  /** Decode with the KV cache (default true); false reruns the full forward pass each step (benchmarks, checks). */
  useCache?: boolean;
  /**
   * Prefill each distinct prompt once and copy its cache rows to its n samples (default true):
   * n× less prefill work. Needs a KvCache whose select accepts repeated rows (gather semantics).
   */
  sharePrefill?: boolean;
}

/**
 * A model that prefills and decodes on host arrays (e.g. @irpo/onnx's OnnxLlama on ONNX Runtime):
 * what LocalEngine runs besides a TensorFlow.js CausalLM. Same contract as CausalLM's prefill and
 * decode: left-padded ids and mask [B, T] → last-position logits [B, V] and a cache; one token per
 * row → logits [B, V], the cache growing in place; `cache.select` gathers rows (repeats allowed).
 */
export interface HostDecoder {
  readonly spec: { readonly vocabSize: number; readonly maxPositions: number };
  prefill(
    inputIds: Int32Array,
    attentionMask: Int32Array,
    batch: number,
    length: number,
    /** The most tokens the caller will decode after the prompt (a hint for sizing the cache). */
    maxNewTokens?: number,
  ): Promise<{ logits: Float32Array; cache: KvCache }>;
  decode(tokens: Int32Array, cache: KvCache): Promise<Float32Array>;
  /**
   * Batches it decodes at the same time, each on its own cache (@irpo/onnx's OnnxDecoderPool: one
   * per worker thread); absent or 1: one at a time.
   */
  readonly lanes?: number;
}

type Stepper = (active: Row[], logits: Float32Array) => { keep: number[]; next: number[] };

/** Counters across all generate calls (for progress lines and benchmarks). */
export interface EngineStats {
  promptTokens: number;
  completionTokens: number;
  sequences: number;
}

interface Row {
  prompt: number;
  sample: number;
  ids: number[];
  rng: () => number;
  tokens: number[];
  logprobs: number[];
  /** Characters of text already passed to onText. */
  emitted: number;
  done?: Completion;
}

/**
 * Generation in process on a CausalLM: prompts are left-padded and prefilled together, then
 * decoded one token per step with the KV cache. A sequence that ends (EOS, a stop string, the
 * token limit) leaves the batch, so the cache and each step shrink with it. Sampling runs on the
 * host per row with its own seeded stream, so a sample's text is independent of its batch.
 */
export class LocalEngine implements Engine {
  readonly stats: EngineStats = { promptTokens: 0, completionTokens: 0, sequences: 0 };
  /** Batches decoded at once (the model's lanes): over all calls, so callers may keep this many calls in flight. */
  readonly batchParallelism: number;
  private readonly slots: Semaphore;
  private readonly maxBatchSize: number;
  private readonly addSpecialTokens: boolean;
  private readonly render: (prompt: string) => string;
  private readonly useCache: boolean;
  private readonly sharePrefill: boolean;

  constructor(
    readonly model: CausalLM | HostDecoder,
    readonly tokenizer: Tokenizer,
    options: LocalEngineOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 32;
    this.addSpecialTokens = options.promptFormat?.addSpecialTokens ?? options.addSpecialTokens ?? true;
    this.render = options.promptFormat?.render ?? ((p) => p);
    this.useCache = options.useCache ?? true;
    this.sharePrefill = options.sharePrefill ?? true;
    if (!(this.maxBatchSize >= 1)) throw new Error(`maxBatchSize must be ≥ 1, got ${this.maxBatchSize}`);
    if (!this.useCache && !isCausalLM(model)) throw new Error('LocalEngine: useCache false needs a TensorFlow.js CausalLM');
    this.batchParallelism = isCausalLM(model) ? 1 : Math.max(1, Math.floor(model.lanes ?? 1));
    this.slots = new Semaphore(this.batchParallelism);
  }

  async generate(request: GenerateRequest): Promise<Completion[][]> {
    const req = validateRequest(request);
    const rows: Row[] = [];
    const addSpecialTokens = req.addSpecialTokens ?? this.addSpecialTokens;
    const encoded = req.prompts.map((p) => this.tokenizer.encode(this.render(p), { addSpecialTokens }));
    req.prompts.forEach((_, i) => {
      if (encoded[i].length === 0) throw new RangeError(`generate: prompts[${i}]: encodes to no tokens`);
      const need = encoded[i].length + req.maxNewTokens;
      if (need > this.model.spec.maxPositions)
        throw new RangeError(
          `generate: prompts[${i}]: ${encoded[i].length} prompt tokens + maxNewTokens ${req.maxNewTokens} exceed the model's ${this.model.spec.maxPositions} positions`,
        );
      const seed = req.seeds?.[i] ?? promptSeed(req.seed, req.keys?.[i] ?? req.prompts[i]);
      for (let j = 0; j < req.n; j++) {
        rows.push({
          prompt: i,
          sample: j,
          ids: encoded[i],
          rng: mulberry32(sampleSeed(seed, j)),
          tokens: [],
          logprobs: [],
          emitted: 0,
        });
      }
    });
    // Similar lengths together: less padding. Results do not depend on the grouping.
    const order = [...rows].sort((a, b) => a.ids.length - b.ids.length);
    const batches: Row[][] = [];
    for (let start = 0; start < order.length; start += this.maxBatchSize) batches.push(order.slice(start, start + this.maxBatchSize));
    // Up to batchParallelism batches at once (a slot each, shared by all calls), taken in order by
    // as many loops; the first failure stops the others.
    const failed = new AbortController();
    const signal = req.signal ? AbortSignal.any([req.signal, failed.signal]) : failed.signal;
    const inner: ValidRequest = { ...req, signal };
    let next = 0;
    const loop = async (): Promise<void> => {
      while (next < batches.length) {
        if (signal.aborted) throw signal.reason ?? new Error('aborted');
        const batch = batches[next++];
        await this.slots.use(() => this.runBatch(batch, inner), signal);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.batchParallelism, batches.length) }, () =>
        loop().catch((err: unknown) => {
          if (!failed.signal.aborted) failed.abort(err);
          throw err;
        }),
      ),
    );
    const out: Completion[][] = req.prompts.map(() => []);
    for (const row of rows) out[row.prompt][row.sample] = row.done!;
    return out;
  }

  private async runBatch(rows: Row[], req: ValidRequest): Promise<void> {
    const pad = padIdOf(this.tokenizer);
    const step = this.stepper(req);
    for (const r of rows) this.stats.promptTokens += r.ids.length;
    if (!this.useCache) return this.runUncached(rows, req, pad, step);
    // Each distinct prompt is prefilled once; its n samples then share the cache rows
    // (select with repeated rows copies them).
    const uniq: Row[] = [];
    const rowToUniq = rows.map((r) => {
      let u = uniq.findIndex((x) => x.prompt === r.prompt);
      if (u < 0 || !this.sharePrefill) u = uniq.push(r) - 1;
      return u;
    });
    const T = Math.max(...uniq.map((r) => r.ids.length));
    const idsFlat = new Int32Array(uniq.length * T).fill(pad);
    const maskFlat = new Int32Array(uniq.length * T);
    uniq.forEach((r, b) => {
      const off = b * T + (T - r.ids.length); // left padding
      idsFlat.set(r.ids, off);
      maskFlat.fill(1, off, (b + 1) * T);
    });
    let cache: KvCache | undefined;
    try {
      const prefilled = await this.prefill(idsFlat, maskFlat, uniq.length, T, req.maxNewTokens);
      cache = prefilled.cache;
      let logits = prefilled.logits;
      if (uniq.length < rows.length) {
        const V = this.model.spec.vocabSize;
        cache = cache.select(rowToUniq);
        const expanded = new Float32Array(rows.length * V);
        rowToUniq.forEach((u, b) => expanded.set(logits.subarray(u * V, (u + 1) * V), b * V));
        logits = expanded;
      }
      let active = rows; // rows still in the batch, in cache order
      for (;;) {
        const { keep, next } = step(active, logits);
        if (keep.length === 0) break;
        if (keep.length < active.length) {
          cache = cache.select(keep);
          active = keep.map((k) => active[k]);
        }
        logits = await this.decode(Int32Array.from(next), cache);
        // Let the event loop breathe (servers, progress, aborts) between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      cache?.dispose();
    }
  }

  /** Left-padded prompts [B, T] → last-position logits [B, V] and the cache, on either kind of model. */
  private async prefill(
    idsFlat: Int32Array,
    maskFlat: Int32Array,
    batch: number,
    length: number,
    maxNewTokens: number,
  ): Promise<{ logits: Float32Array; cache: KvCache }> {
    if (!isCausalLM(this.model)) return this.model.prefill(idsFlat, maskFlat, batch, length, maxNewTokens);
    const ids = tf.tensor2d(idsFlat, [batch, length], 'int32');
    const mask = tf.tensor2d(maskFlat, [batch, length], 'int32');
    try {
      const prefilled = this.model.prefill(ids, mask, maxNewTokens);
      return { logits: await takeData(prefilled.logits), cache: prefilled.cache };
    } finally {
      ids.dispose();
      mask.dispose();
    }
  }

  /** One token per row → logits [B, V]; the cache grows. */
  private async decode(next: Int32Array, cache: KvCache): Promise<Float32Array> {
    if (!isCausalLM(this.model)) return this.model.decode(next, cache);
    const tokens = tf.tensor1d(next, 'int32');
    try {
      return await takeData(this.model.decode(tokens, cache));
    } finally {
      tokens.dispose();
    }
  }

  /** Without the cache: every step runs the full forward pass (right-padded) over all tokens so far. */
  private async runUncached(rows: Row[], req: ValidRequest, pad: number, step: Stepper): Promise<void> {
    const model = this.model as CausalLM;
    const V = this.model.spec.vocabSize;
    let active = rows;
    for (;;) {
      const seqs = active.map((r) => [...r.ids, ...r.tokens]);
      const T = Math.max(...seqs.map((q) => q.length));
      const idsFlat = new Int32Array(active.length * T).fill(pad);
      const maskFlat = new Int32Array(active.length * T);
      seqs.forEach((q, b) => {
        idsFlat.set(q, b * T);
        maskFlat.fill(1, b * T, b * T + q.length);
      });
      const lastFlat = tf.tidy(() => {
        const ids = tf.tensor2d(idsFlat, [active.length, T], 'int32');
        const mask = tf.tensor2d(maskFlat, [active.length, T], 'int32');
        const logits = model.forward(ids, mask); // [B, T, V]
        const flat = tf.reshape(logits, [active.length * T, V]);
        const at = tf.tensor1d(
          seqs.map((q, b) => b * T + q.length - 1),
          'int32',
        );
        return tf.gather(flat, at); // [B, V]: each row's last real position
      });
      const { keep } = step(active, await takeData(lastFlat));
      if (keep.length === 0) break;
      active = keep.map((k) => active[k]);
      await new Promise((resolve) => setImmediate(resolve));
      if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
    }
  }

  /**
   * One sampling step over the rows in the batch, given their logits [B*V]: picks each row's
   * token, finishes rows (EOS, stop string, length) and returns which rows go on, with their tokens.
   */
  private stepper(req: ValidRequest): Stepper {
    const V = this.model.spec.vocabSize;
    const eos = new Set(this.tokenizer.eosTokenIds);
    const stops = new StopMatcher(req.stop);
    const stopWindow = stops.maxLength + 8; // tokens: enough to hold any stop a step completed
    const params: SamplingParams = { temperature: req.temperature, topK: req.topK, topP: req.topP };
    return (active, logits) => {
      if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
      const next: number[] = [];
      const keep: number[] = [];
      active.forEach((row, k) => {
        const rowLogits = logits.slice(k * V, (k + 1) * V);
        const raw = req.logprobs ? rowLogits.slice() : undefined;
        const token = sampleToken(rowLogits, params, row.rng);
        if (eos.has(token)) {
          row.done = this.finish(row, 'eos', req.logprobs, undefined, req.onText);
          return;
        }
        row.tokens.push(token);
        if (raw) row.logprobs.push(logSoftmaxAt(raw, token));
        if (stops.active) {
          const tail = this.tokenizer.decode(row.tokens.slice(-stopWindow), { skipSpecialTokens: true });
          if (stops.find(tail) >= 0) {
            const full = this.tokenizer.decode(row.tokens, { skipSpecialTokens: true });
            const at = stops.find(full);
            if (at >= 0) {
              row.done = this.finish(row, 'stop', req.logprobs, full.slice(0, at), req.onText);
              return;
            }
          }
        }
        if (row.tokens.length >= req.maxNewTokens) {
          row.done = this.finish(row, 'length', req.logprobs, undefined, req.onText);
          return;
        }
        if (req.onText) {
          // Hold back what could still become a stop string, and a half-decoded character.
          const text = this.tokenizer.decode(row.tokens, { skipSpecialTokens: true });
          let end = text.length - Math.max(0, stops.maxLength - 1);
          while (end > row.emitted && text[end - 1] === '\uFFFD') end--;
          if (end > row.emitted) {
            req.onText({ prompt: row.prompt, sample: row.sample, text: text.slice(row.emitted, end) });
            row.emitted = end;
          }
        }
        next.push(token);
        keep.push(k);
      });
      return { keep, next };
    };
  }

  private finish(
    row: Row,
    reason: Completion['finishReason'],
    logprobs: boolean,
    text?: string,
    onText?: GenerateRequest['onText'],
  ): Completion {
    this.stats.completionTokens += row.tokens.length;
    this.stats.sequences++;
    const final = text ?? this.tokenizer.decode(row.tokens, { skipSpecialTokens: true });
    if (onText && final.length > row.emitted) onText({ prompt: row.prompt, sample: row.sample, text: final.slice(row.emitted) });
    row.emitted = final.length;
    const completion: Completion = {
      text: final,
      tokens: row.tokens.length,
      finishReason: reason,
      tokenIds: row.tokens,
    };
    if (logprobs) completion.logprobs = row.logprobs;
    return completion;
  }
}

function isCausalLM(model: CausalLM | HostDecoder): model is CausalLM {
  return 'variables' in model;
}

async function takeData(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
