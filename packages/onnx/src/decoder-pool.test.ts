import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '@irpo/contracts';
import { initBackend, tf } from '@irpo/core';
import { loadCheckpoint, type LlamaModel } from '@irpo/model';
import { decoderLanes, OnnxDecoderPool, POOL_MAX_PARAMS, type PooledKvCache } from './decoder-pool.js';
import { CACHE_CHUNK } from './onnx-kv-cache.js';
import { OnnxLlama } from './onnx-llama.js';
import { maxAbsDiff } from '../test/numerics.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', '..', 'model', 'test', 'fixtures', 'qwen2-bias');
// The workers run this package's TypeScript sources: they need the loader the tests' child processes use.
const execArgv = ['--conditions=@irpo/source', '--import', new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href];

let onnx: OnnxLlama;
let model: LlamaModel;
let pool: OnnxDecoderPool;

beforeAll(async () => {
  await initBackend('cpu');
  onnx = await OnnxLlama.fromCheckpoint(dir, { threads: 2 });
  model = (await loadCheckpoint(dir)).model;
  pool = await OnnxDecoderPool.create(onnx, { workers: 2, execArgv });
});

afterAll(async () => {
  await pool.dispose();
  await onnx.dispose();
  model.dispose();
});

/** A batch decoded on the TensorFlow.js model alongside: prefill, then steps, selects on the way. */
async function tfPrefill(prompts: number[], mask: number[], batch: number, steps: number) {
  const ids = tf.tensor2d(prompts, [batch, prompts.length / batch], 'int32');
  const m = tf.tensor2d(mask, [batch, prompts.length / batch], 'int32');
  const out = model.prefill(ids, m, steps);
  const logits = await out.logits.data();
  tf.dispose([ids, m, out.logits]);
  return { logits, cache: out.cache };
}

describe('OnnxDecoderPool (decode graph in worker threads)', () => {
  it('two batches on two threads at once match the TensorFlow.js model step by step, past the capacity, with rows leaving and repeated', async () => {
    const a = {
      prompts: [1, 17, 5, 42, 9, 3, 0, 0, 0, 1, 23, 8, 0, 1, 30, 31, 32, 33],
      mask: [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1],
      rows: 3,
    };
    const b = { prompts: [0, 0, 1, 7, 1, 2, 3, 4], mask: [0, 0, 1, 1, 1, 1, 1, 1], rows: 2 };
    const steps = CACHE_CHUNK + 6; // prefilled for 8 new tokens: the capacity of 64 grows on the way
    const [pa, pb] = await Promise.all([
      pool.prefill(Int32Array.from(a.prompts), Int32Array.from(a.mask), 3, 6, 8),
      pool.prefill(Int32Array.from(b.prompts), Int32Array.from(b.mask), 2, 4, 8),
    ]);
    expect(pa.cache.worker.index).not.toBe(pb.cache.worker.index); // one batch per thread
    const ta = await tfPrefill(a.prompts, a.mask, 3, steps);
    const tb = await tfPrefill(b.prompts, b.mask, 2, steps);
    let worst = Math.max(maxAbsDiff(pa.logits, ta.logits), maxAbsDiff(pb.logits, tb.logits));
    let [ca, cb]: PooledKvCache[] = [pa.cache, pb.cache];
    let [ra, rb] = [ta.cache, tb.cache];
    let [na, nb] = [3, 2];
    for (let i = 0; i < steps; i++) {
      if (i === 5) {
        ca = ca.select([0, 2]); // a row of batch a ends: compacted in place there
        ra = ra.select([0, 2]);
        na = 2;
      }
      if (i === 9) {
        cb = cb.select([1, 1, 0]); // batch b gathers: a row repeated
        rb = rb.select([1, 1, 0]);
        nb = 3;
      }
      const sa = Array.from({ length: na }, (_, r) => (7 * i + 3 * r + 1) % 64);
      const sb = Array.from({ length: nb }, (_, r) => (5 * i + 11 * r + 2) % 64);
      const [ga, gb] = await Promise.all([pool.decode(Int32Array.from(sa), ca), pool.decode(Int32Array.from(sb), cb)]);
      for (const [got, tokens, cache] of [
        [ga, sa, ra],
        [gb, sb, rb],
      ] as const) {
        const t = tf.tensor1d(tokens, 'int32');
        const want = model.decode(t, cache);
        worst = Math.max(worst, maxAbsDiff(got, await want.data()));
        tf.dispose([t, want]);
      }
    }
    expect(worst).toBeLessThan(1e-5);
    expect([ca.batch, ca.length, cb.batch, cb.length]).toEqual([2, 6 + steps, 3, 4 + steps]);
    ca.dispose();
    cb.dispose();
    ra.dispose();
    rb.dispose();
  });

  it('says which cache or row is wrong, passes on a thread-side error, and refuses work once stopped', async () => {
    const { cache: local } = await onnx.prefill([1, 5], [1, 1], 1, 2);
    await expect(pool.decode(Int32Array.of(3), local as never)).rejects.toThrow('the cache was not made by this pool');
    const { cache } = await pool.prefill(Int32Array.of(1, 5, 1, 6), Int32Array.of(1, 1, 1, 1), 2, 2);
    expect(() => cache.select([0, 2])).toThrow('select: row 2 of a cache of 2');
    await expect(pool.decode(Int32Array.of(3), cache)).rejects.toThrow('decode: 1 tokens for a cache of 2 rows');
    cache.dispose();
    await expect(pool.decode(Int32Array.of(3, 4), cache)).rejects.toThrow(/no cache \d+ in this decoder/);
    const other = await OnnxDecoderPool.create(onnx, { workers: 1, execArgv });
    await other.dispose();
    await expect(other.prefill(Int32Array.of(1), Int32Array.of(1), 1, 1)).rejects.toThrow('ONNX Runtime decoder thread 0 was stopped');
  });

  it('gives up on a worker that never says it is up, after startTimeoutS', async () => {
    // A preloaded module that never finishes loading, while something keeps the thread alive: a hung start.
    const hang = 'data:text/javascript,setInterval(() => {}, 1e9); await new Promise(() => {});';
    await expect(OnnxDecoderPool.create(onnx, { workers: 1, execArgv: ['--import', hang], startTimeoutS: 0.5 })).rejects.toThrow(
      'ONNX Runtime decoder thread 0 did not start within 0.5 s',
    );
  });

  it('fails to start with the reason when the threads cannot load the worker', async () => {
    // Without a TypeScript loader the sources cannot run in a worker.
    await expect(OnnxDecoderPool.create(onnx, { workers: 2, execArgv: [] })).rejects.toThrow(
      /ONNX Runtime decoder thread \d failed: .*\.ts/,
    );
  });
});

describe('decoderLanes', () => {
  const spec = (hidden: number, layers: number, vocab: number, inter: number): ModelSpec =>
    ({
      architecture: 'LlamaForCausalLM',
      vocabSize: vocab,
      hiddenSize: hidden,
      intermediateSize: inter,
      numLayers: layers,
      numHeads: 32,
      numKvHeads: 32,
      maxPositions: 4096,
      ropeTheta: 10000,
      ropeScaling: null,
      rmsNormEps: 1e-5,
      tieWordEmbeddings: false,
      attentionBias: false,
    }) as ModelSpec;
  const small = spec(96, 3, 63, 256); // the demo's shape: 0.34M parameters
  const llama7b = spec(4096, 32, 32000, 11008); // 6.7B

  it('one decoder per core (at most 8) for a small model on the CPU; one for a large model or a GPU', () => {
    expect(decoderLanes(small, 2)).toBe(2);
    expect(decoderLanes(small, 1)).toBe(1);
    expect(decoderLanes(small, 16)).toBe(8);
    expect(decoderLanes(small, 2, ['cuda', 'cpu'])).toBe(1);
    expect(decoderLanes(llama7b, 16)).toBe(1);
    expect(POOL_MAX_PARAMS).toBeLessThan(6.7e9);
  });
});
