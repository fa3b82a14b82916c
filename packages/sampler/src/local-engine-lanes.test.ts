import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@irpo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingEngine } from './batching-engine.js';
import type { Completion, Engine, GenerateRequest } from './engine.js';
import { LocalEngine, type HostDecoder } from './local-engine.js';
import { sampleDataset } from './sample-dataset.js';
import { FakeCharTokenizer, fakeProblems, fakeTask, FakeLM } from './testing/fakes.js';
import type { KvCache } from './types.js';

let dir: string;
beforeAll(async () => {
  await initBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'irpo-lanes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tok = new FakeCharTokenizer();
const turn = () => new Promise((resolve) => setTimeout(resolve, 1));

/**
 * A HostDecoder over the fake model that answers after an I/O turn, as a decoder thread does,
 * with `lanes` batches at once; it counts the batches alive (prefilled, cache not yet disposed).
 */
class AsyncDecoder implements HostDecoder {
  live = 0;
  peak = 0;
  prefills = 0;
  failAtPrefill = 0;
  private readonly inner = new WeakMap<KvCache, KvCache>();

  constructor(
    readonly model: FakeLM,
    readonly lanes: number,
  ) {}

  get spec() {
    return this.model.spec;
  }

  async prefill(ids: Int32Array, mask: Int32Array, batch: number, length: number, maxNewTokens?: number) {
    const call = ++this.prefills;
    await turn();
    if (call === this.failAtPrefill) throw new Error(`decoder failed at prefill ${call}`);
    const idsT = tf.tensor2d(ids, [batch, length], 'int32');
    const maskT = tf.tensor2d(mask, [batch, length], 'int32');
    const out = this.model.prefill(idsT, maskT, maxNewTokens ?? 16);
    const logits = (await out.logits.data()) as Float32Array;
    tf.dispose([idsT, maskT, out.logits]);
    this.live++;
    this.peak = Math.max(this.peak, this.live);
    return { logits, cache: this.wrap(out.cache) };
  }

  async decode(tokens: Int32Array, cache: KvCache): Promise<Float32Array> {
    await turn();
    const t = tf.tensor1d(tokens, 'int32');
    const logits = this.model.decode(t, this.inner.get(cache)!);
    const data = (await logits.data()) as Float32Array;
    tf.dispose([t, logits]);
    return data;
  }

  private wrap(c: KvCache): KvCache {
    const onDispose = () => this.live--;
    const w: KvCache = {
      get batch() {
        return c.batch;
      },
      get length() {
        return c.length;
      },
      select: (rows) => this.wrap(c.select(rows)),
      dispose: () => {
        onDispose();
        c.dispose();
      },
    };
    this.inner.set(w, c);
    return w;
  }
}

const request: GenerateRequest = { prompts: ['ab', 'Q: 1+2=?', 'c', 'xyz', 'Q: 7'], n: 3, temperature: 1.2, maxNewTokens: 14, seed: 9 };
const texts = (r: Completion[][]) => r.map((cs) => cs.map((c) => `${c.finishReason}:${c.tokenIds!.join(',')}`));

describe('LocalEngine over a decoder with several lanes', () => {
  it('decodes `lanes` batches at once and gives the completions of one batch at a time', async () => {
    const model = new FakeLM(3);
    const alone = await new LocalEngine(model, tok, { maxBatchSize: 3 }).generate(request);
    const decoder = new AsyncDecoder(model, 2);
    const engine = new LocalEngine(decoder, tok, { maxBatchSize: 3 });
    expect(engine.batchParallelism).toBe(2);
    const both = await engine.generate(request);
    expect(texts(both)).toEqual(texts(alone));
    expect(decoder.prefills).toBe(5); // 15 rows in batches of 3
    expect(decoder.peak).toBe(2);
    expect(decoder.live).toBe(0); // every cache disposed
    // Two calls at once share the two lanes: never more than two batches alive.
    decoder.peak = 0;
    const [a, b] = await Promise.all([engine.generate(request), engine.generate({ ...request, seed: 10 })]);
    expect(texts(a)).toEqual(texts(alone));
    expect(texts(b)).not.toEqual(texts(alone));
    expect(decoder.peak).toBe(2);
    model.dispose();
  });

  it('a failed batch fails the call, the batches behind it do not start, and nothing stays alive', async () => {
    const model = new FakeLM(3);
    const decoder = new AsyncDecoder(model, 2);
    decoder.failAtPrefill = 2;
    const engine = new LocalEngine(decoder, tok, { maxBatchSize: 3 });
    await expect(engine.generate(request)).rejects.toThrow('decoder failed at prefill 2');
    for (let i = 0; i < 50 && decoder.live > 0; i++) await turn(); // the first batch stops at its next step
    expect(decoder.live).toBe(0);
    expect(decoder.prefills).toBeLessThanOrEqual(3); // batches 1 and 2, at most the one that took batch 2's lane
    model.dispose();
  });

  it('sampleDataset keeps batchParallelism calls of batchSize problems in flight and writes the same file', async () => {
    const problems = fakeProblems(7);
    const model = new FakeLM(7);
    const opts = { n: 3, temperature: 1, maxNewTokens: 12, seed: 5, batchSize: 2 };
    await sampleDataset(problems, fakeTask, new LocalEngine(model, tok, { maxBatchSize: 6 }), { ...opts, out: join(dir, 'one.jsonl') });
    const decoder = new AsyncDecoder(model, 2);
    const inner = new LocalEngine(decoder, tok, { maxBatchSize: 6 });
    let inFlight = 0;
    let peak = 0;
    const sizes: number[] = [];
    const counting: Engine = {
      batchParallelism: inner.batchParallelism,
      generate: async (req) => {
        sizes.push(req.prompts.length);
        peak = Math.max(peak, ++inFlight);
        try {
          return await inner.generate(req);
        } finally {
          inFlight--;
        }
      },
    };
    await sampleDataset(problems, fakeTask, counting, { ...opts, out: join(dir, 'two.jsonl') });
    expect(sizes).toEqual([2, 2, 2, 1]); // batchSize problems per call, not one
    expect(peak).toBe(2);
    expect(await readFile(join(dir, 'two.jsonl'), 'utf8')).toBe(await readFile(join(dir, 'one.jsonl'), 'utf8'));
    model.dispose();
  });

  it("BatchingEngine runs as many merged calls at once as the inner engine's batchParallelism", async () => {
    let inFlight = 0;
    let peak = 0;
    const inner: Engine = {
      batchParallelism: 2,
      generate: async (req) => {
        peak = Math.max(peak, ++inFlight);
        for (let i = 0; i < 5; i++) await turn();
        inFlight--;
        return req.prompts.map((p) => [{ text: p, tokens: 1, finishReason: 'eos' as const }]);
      },
    };
    // maxRows 1: no two requests merge, so six requests are six calls.
    const batching = new BatchingEngine(inner, { maxRows: 1, windowMs: 0 });
    const out = await Promise.all(Array.from({ length: 6 }, (_, i) => batching.generate({ prompts: [`p${i}`], maxNewTokens: 4 })));
    expect(out.map((r) => r[0]![0]!.text)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    expect(batching.stats.calls).toBe(6);
    expect(peak).toBe(2);
  });
});
