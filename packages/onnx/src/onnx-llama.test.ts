import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@irpo/core';
import { loadCheckpoint } from '@irpo/model';
import { CACHE_CHUNK } from './onnx-kv-cache.js';
import { OnnxLlama } from './onnx-llama.js';
import { maxAbsDiff } from '../test/numerics.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'model', 'test', 'fixtures');

interface Golden {
  inputIds: number[][];
  attentionMask: number[][];
  logits: number[][][];
}

beforeAll(async () => {
  await initBackend('cpu');
});

// Goldens: tools/fixtures/model_golden.py, an independent float64 torch forward on the same
// (bf16/f16-rounded) weights, written to HF modeling_llama/qwen2 conventions.
describe.each([
  ['llama-gqa', 'GQA 4 heads / 2 kv heads, untied head, F32 file'],
  ['llama-tied', 'tied embeddings, llama3 rope scaling, BF16 file'],
  ['qwen2-bias', 'Qwen2 q/k/v biases, GQA 6/2, F16 file in two shards'],
])('ONNX graph: %s (%s)', (name) => {
  it.each([
    ['fused kernels', true],
    ['standard ops only', false],
  ])('logits on a right-padded batch match the float64 golden and the TensorFlow.js model within 1e-5 (%s)', async (_, fused) => {
    const dir = join(fixtures, name);
    const golden = JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8')) as Golden;
    const onnx = await OnnxLlama.fromCheckpoint(dir, { threads: 1, fused });
    const [B, T] = [golden.inputIds.length, golden.inputIds[0]!.length];
    const logits = await onnx.logits(golden.inputIds.flat(), golden.attentionMask.flat(), B, T);
    expect(logits.length).toBe(B * T * 64);
    expect(maxAbsDiff(logits, golden.logits.flat(2))).toBeLessThan(1e-5);
    const { model } = await loadCheckpoint(dir);
    const ids = tf.tensor2d(golden.inputIds, undefined, 'int32');
    const mask = tf.tensor2d(golden.attentionMask, undefined, 'int32');
    const ref = model.forward(ids, mask);
    expect(maxAbsDiff(logits, await ref.data())).toBeLessThan(1e-5);
    tf.dispose([ids, mask, ref]);
    model.dispose();
    await onnx.dispose();
  });
});

describe('scoring and decoding graphs (qwen2 biases, GQA)', () => {
  const dir = join(fixtures, 'qwen2-bias');
  const ids = [
    [1, 17, 5, 42, 9, 3],
    [1, 23, 8, 0, 0, 0],
  ];
  const mask = [
    [1, 1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0, 0],
  ];

  it('tokenLogps equals the log-softmax of the TensorFlow.js logits at the chosen positions', async () => {
    const onnx = await OnnxLlama.fromCheckpoint(dir, { threads: 1 });
    const { model } = await loadCheckpoint(dir);
    const idsT = tf.tensor2d(ids, undefined, 'int32');
    const maskT = tf.tensor2d(mask, undefined, 'int32');
    const logp = tf.logSoftmax(model.forward(idsT, maskT));
    const ref = (await logp.data()) as Float32Array;
    const positions = [1, 2, 4, 6, 7]; // row 0 at t = 1, 2, 4; row 1 at t = 0, 1
    const targets = [5, 42, 3, 23, 8];
    const got = await onnx.tokenLogps(ids.flat(), mask.flat(), 2, 6, positions, targets);
    expect(
      maxAbsDiff(
        got,
        positions.map((p, i) => ref[p * 64 + targets[i]!]!),
      ),
    ).toBeLessThan(1e-5);
    // Summed per row over a loss mask, as the trainer's packed batch asks.
    const sums = await onnx.sequenceLogps({
      batch: 2,
      length: 6,
      inputIds: ids.flat(),
      attentionMask: mask.flat(),
      targets: [0, 5, 42, 0, 3, 0, 23, 8, 0, 0, 0, 0],
      lossMask: [0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0],
    });
    expect(sums[0]).toBeCloseTo(got[0]! + got[1]! + got[2]!, 5);
    expect(sums[1]).toBeCloseTo(got[3]! + got[4]!, 5);
    tf.dispose([idsT, maskT, logp]);
    model.dispose();
    await onnx.dispose();
  });

  it('prefill (left padding) and decode steps match the TensorFlow.js model, and select gathers rows', async () => {
    const onnx = await OnnxLlama.fromCheckpoint(dir, { threads: 1 });
    const { model } = await loadCheckpoint(dir);
    // Left-padded prompts: row 1 is three pads then three tokens.
    const prompts = [1, 17, 5, 42, 9, 3, 0, 0, 0, 1, 23, 8];
    const pmask = [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1];
    const pT = tf.tensor2d(prompts, [2, 6], 'int32');
    const mT = tf.tensor2d(pmask, [2, 6], 'int32');
    const tfPre = model.prefill(pT, mT, 4);
    let tfCache = tfPre.cache;
    const { logits: first, cache } = await onnx.prefill(prompts, pmask, 2, 6);
    expect(maxAbsDiff(first, await tfPre.logits.data())).toBeLessThan(1e-5);
    let onnxCache = cache;
    for (const step of [
      [7, 11],
      [13, 2],
    ]) {
      const tok = tf.tensor1d(step, 'int32');
      const want = model.decode(tok, tfCache);
      const got = await onnx.decode(step, onnxCache);
      expect(maxAbsDiff(got, await want.data())).toBeLessThan(1e-5);
      tf.dispose([tok, want]);
    }
    // Row 1 twice, then one more step: equal to the TensorFlow.js cache selected the same way.
    onnxCache = onnxCache.select([1, 1]);
    tfCache = tfCache.select([1, 1]);
    const tok = tf.tensor1d([4, 9], 'int32');
    const want = model.decode(tok, tfCache);
    expect(maxAbsDiff(await onnx.decode([4, 9], onnxCache), await want.data())).toBeLessThan(1e-5);
    tf.dispose([pT, mT, tfPre.logits, tok, want]);
    tfCache.dispose();
    model.dispose();
    await onnx.dispose();
  });

  it.each([
    ['fused kernels', true],
    ['standard ops only', false],
  ])('decoding past the cache capacity, with rows leaving and reordered, matches TensorFlow.js step by step (%s)', async (_, fused) => {
    const onnx = await OnnxLlama.fromCheckpoint(dir, { threads: 1, fused });
    const { model } = await loadCheckpoint(dir);
    const prompts = [1, 17, 5, 42, 9, 3, 0, 0, 0, 1, 23, 8, 0, 1, 30, 31, 32, 33];
    const pmask = [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1];
    const pT = tf.tensor2d(prompts, [3, 6], 'int32');
    const mT = tf.tensor2d(pmask, [3, 6], 'int32');
    const steps = CACHE_CHUNK + 10; // 6 + 74 columns: a capacity of 64 grows to 128 on the way
    const tfPre = model.prefill(pT, mT, steps);
    let tfCache = tfPre.cache;
    const pre = await onnx.prefill(prompts, pmask, 3, 6, 8);
    let onnxCache = pre.cache;
    expect(onnxCache.capacity).toBe(CACHE_CHUNK);
    let worst = maxAbsDiff(pre.logits, await tfPre.logits.data());
    let rows = 3;
    for (let i = 0; i < steps; i++) {
      if (i === 20) {
        // Row 1 ends: the cache compacts in place (the engine's select after a row ends).
        const before = onnxCache;
        onnxCache = onnxCache.select([0, 2]);
        expect(onnxCache).toBe(before);
        tfCache = tfCache.select([0, 2]);
        rows = 2;
      }
      if (i === 40) {
        // The rows swap places: a new cache.
        onnxCache = onnxCache.select([1, 0]);
        tfCache = tfCache.select([1, 0]);
      }
      const step = [(7 * i + 3) % 64, (11 * i + 5) % 64, (13 * i + 1) % 64].slice(0, rows);
      const tok = tf.tensor1d(step, 'int32');
      const want = model.decode(tok, tfCache);
      worst = Math.max(worst, maxAbsDiff(await onnx.decode(step, onnxCache), await want.data()));
      tf.dispose([tok, want]);
    }
    expect(onnxCache.length).toBe(6 + steps);
    expect(onnxCache.capacity).toBe(2 * CACHE_CHUNK);
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([pT, mT, tfPre.logits]);
    tfCache.dispose();
    model.dispose();
    await onnx.dispose();
  });
});

describe('OnnxLlama.fromModel', () => {
  it('refuses a model with an unmerged LoRA adapter, and takes the merged weights after mergeLora', async () => {
    const { model } = await loadCheckpoint(join(fixtures, 'llama-gqa'));
    model.attachLora({ r: 2, alpha: 4 }, { seed: 1 });
    await expect(OnnxLlama.fromModel(model)).rejects.toThrow(/merge it first/);
    // B starts at zero: give it values so the merge changes the weights.
    for (const [name, v] of model.trainableVariables) if (name.includes('lora_B')) v.assign(tf.fill(v.shape, 0.05));
    const ids = tf.tensor2d([[1, 17, 5, 42]], undefined, 'int32');
    const adapted = model.forward(ids);
    model.mergeLora();
    const onnx = await OnnxLlama.fromModel(model, { threads: 1 });
    const logits = await onnx.logits([1, 17, 5, 42], [1, 1, 1, 1], 1, 4);
    expect(maxAbsDiff(logits, await adapted.data())).toBeLessThan(1e-5);
    tf.dispose([ids, adapted]);
    model.dispose();
    await onnx.dispose();
  });
});
