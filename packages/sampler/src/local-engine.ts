import { tf } from '@irpo/core';
import type { Completion, Engine, GenerateRequest } from './engine.js';
import { createRng, deriveSeed } from './generation/rng.js';
import { sampleToken, type SamplingParams } from './generation/sample-token.js';
import { logSoftmaxAt } from './generation/softmax.js';
import { StopMatcher } from './generation/stop-matcher.js';
import { validateRequest } from './validate-request.js';
import type { CausalLM, KvCache, Tokenizer } from './types.js';

export interface LocalEngineOptions {
  /** Most sequences decoded together (default 32): bounds the KV cache's memory. */
  maxBatchSize?: number;
  /** Let the tokenizer add BOS etc. to prompts (default true, as Hugging Face does). */
  addSpecialTokens?: boolean;
}

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
  private readonly maxBatchSize: number;
  private readonly addSpecialTokens: boolean;

  constructor(
    readonly model: CausalLM,
    readonly tokenizer: Tokenizer,
    options: LocalEngineOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 32;
    this.addSpecialTokens = options.addSpecialTokens ?? true;
    if (!(this.maxBatchSize >= 1)) throw new Error(`maxBatchSize must be ≥ 1, got ${this.maxBatchSize}`);
  }

  async generate(request: GenerateRequest): Promise<Completion[][]> {
    const req = validateRequest(request);
    const rows: Row[] = [];
    const encoded = req.prompts.map((p) => this.tokenizer.encode(p, { addSpecialTokens: this.addSpecialTokens }));
    req.prompts.forEach((_, i) => {
      if (encoded[i].length === 0) throw new Error(`prompt ${i} encodes to no tokens`);
      const key = req.keys?.[i] ?? req.prompts[i];
      for (let j = 0; j < req.n; j++) {
        rows.push({ prompt: i, sample: j, ids: encoded[i], rng: createRng(deriveSeed(req.seed, key, j)), tokens: [], logprobs: [] });
      }
    });
    // Similar lengths together: less padding. Results do not depend on the grouping.
    const order = [...rows].sort((a, b) => a.ids.length - b.ids.length);
    for (let start = 0; start < order.length; start += this.maxBatchSize) {
      await this.runBatch(order.slice(start, start + this.maxBatchSize), req);
    }
    const out: Completion[][] = req.prompts.map(() => []);
    for (const row of rows) out[row.prompt][row.sample] = row.done!;
    return out;
  }

  private async runBatch(rows: Row[], req: ReturnType<typeof validateRequest>): Promise<void> {
    const V = this.model.spec.vocabSize;
    const pad = this.tokenizer.padTokenId ?? this.tokenizer.eosTokenIds[0] ?? 0;
    const eos = new Set(this.tokenizer.eosTokenIds);
    const stops = new StopMatcher(req.stop);
    const stopWindow = stops.maxLength + 8; // tokens: enough to hold any stop a step completed
    const params: SamplingParams = { temperature: req.temperature, topK: req.topK, topP: req.topP };
    const T = Math.max(...rows.map((r) => r.ids.length));
    const idsFlat = new Int32Array(rows.length * T).fill(pad);
    const maskFlat = new Int32Array(rows.length * T);
    rows.forEach((r, b) => {
      const off = b * T + (T - r.ids.length); // left padding
      idsFlat.set(r.ids, off);
      maskFlat.fill(1, off, (b + 1) * T);
      this.stats.promptTokens += r.ids.length;
    });
    const ids = tf.tensor2d(idsFlat, [rows.length, T], 'int32');
    const mask = tf.tensor2d(maskFlat, [rows.length, T], 'int32');
    let cache: KvCache | undefined;
    try {
      const prefilled = this.model.prefill(ids, mask, req.maxNewTokens);
      cache = prefilled.cache;
      let logits = await takeData(prefilled.logits);
      let active = rows; // rows still in the batch, in cache order
      for (let step = 0; step < req.maxNewTokens; step++) {
        if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
        const next: number[] = [];
        const keep: number[] = [];
        active.forEach((row, k) => {
          const rowLogits = logits.slice(k * V, (k + 1) * V);
          if (req.logprobs) row.logprobs.push(0); // placeholder, set below once the token is known
          const raw = req.logprobs ? rowLogits.slice() : undefined;
          const token = sampleToken(rowLogits, params, row.rng);
          if (raw) row.logprobs[row.logprobs.length - 1] = logSoftmaxAt(raw, token);
          if (eos.has(token)) {
            if (req.logprobs) row.logprobs.pop(); // EOS is not part of the text
            row.done = this.finish(row, 'eos', req.logprobs);
            return;
          }
          row.tokens.push(token);
          if (stops.active) {
            const tail = this.tokenizer.decode(row.tokens.slice(-stopWindow), { skipSpecialTokens: true });
            if (stops.find(tail) >= 0) {
              const full = this.tokenizer.decode(row.tokens, { skipSpecialTokens: true });
              const at = stops.find(full);
              if (at >= 0) {
                row.done = this.finish(row, 'stop', req.logprobs, full.slice(0, at));
                return;
              }
            }
          }
          if (row.tokens.length >= req.maxNewTokens) {
            row.done = this.finish(row, 'length', req.logprobs);
            return;
          }
          next.push(token);
          keep.push(k);
        });
        if (keep.length === 0) break;
        if (keep.length < active.length) {
          cache = cache.select(keep);
          active = keep.map((k) => active[k]);
        }
        const tokens = tf.tensor1d(next, 'int32');
        try {
          logits = await takeData(this.model.decode(tokens, cache));
        } finally {
          tokens.dispose();
        }
        // Let the event loop breathe (servers, progress, aborts) between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      ids.dispose();
      mask.dispose();
      cache?.dispose();
    }
  }

  private finish(row: Row, reason: Completion['finishReason'], logprobs: boolean, text?: string): Completion {
    this.stats.completionTokens += row.tokens.length;
    this.stats.sequences++;
    const completion: Completion = {
      text: text ?? this.tokenizer.decode(row.tokens, { skipSpecialTokens: true }),
      tokens: row.tokens.length,
      finishReason: reason,
      tokenIds: row.tokens,
    };
    if (logprobs) completion.logprobs = row.logprobs;
    return completion;
  }
}

async function takeData(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
