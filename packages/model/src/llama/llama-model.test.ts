import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@irpo/core';
import { ModelSpecSchema } from '@irpo/contracts';
import { loadCheckpoint } from '../io/checkpoint.js';
import { LlamaModel } from './llama-model.js';
import { fixtureDir } from '../../test/fixture-paths.js';
import { maxAbsDiff } from '../../test/numerics.js';

interface Golden {
  inputIds: number[][];
  attentionMask: number[][];
  logits: number[][][];
}

beforeAll(async () => {
  await initBackend('cpu');
});

// Goldens come from tools/fixtures/model_golden.py: an independent float64 torch forward written to
// HF modeling_llama/qwen2 conventions, run on the same (bf16/f16-rounded) weights. Both attention
// paths are checked against them: the fused kernel (what full forwards run on wasm and cpu) and the
// composite tfjs ops (IRPO_FUSED_ATTENTION=0, and what tfjs-node runs).
describe.each([
  ['llama-gqa', 'GQA 4 heads / 2 kv heads, untied head, F32 file'],
  ['llama-tied', 'tied embeddings, llama3 rope scaling, BF16 file'],
  ['qwen2-bias', 'Qwen2 q/k/v biases, GQA 6/2, F16 file in two shards'],
])('golden logits: %s (%s)', (name) => {
  it.each([
    ['fused', true],
    ['composite', false],
  ])('forward with %s attention on a right-padded batch matches within 1e-4', async (_path, fused) => {
    const golden = JSON.parse(await readFile(join(fixtureDir(name), 'golden.json'), 'utf8')) as Golden;
    const { model } = await loadCheckpoint(fixtureDir(name));
    const ids = tf.tensor2d(golden.inputIds, undefined, 'int32');
    const mask = tf.tensor2d(golden.attentionMask, undefined, 'int32');
    const was = LlamaModel.fusedAttention;
    LlamaModel.fusedAttention = fused;
    try {
      const before = tf.memory().numTensors;
      let logits: tf.Tensor | undefined;
      // The composite path computes attention probabilities with softmax kernels; the fused one does not.
      const kernels = (await tf.profile(() => (logits = model.forward(ids, mask)))).kernelNames;
      expect(kernels.includes('Softmax'), `kernels: ${kernels.join(' ')}`).toBe(!fused);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(logits!.shape).toEqual([2, 8, 64]);
      expect(maxAbsDiff(await logits!.data(), golden.logits.flat(2))).toBeLessThan(1e-4);
      tf.dispose([ids, mask, logits!]);
    } finally {
      LlamaModel.fusedAttention = was;
      model.dispose();
    }
  });
});

describe('forwardAt', () => {
  it('gives the logits of forward at the chosen flat positions (qwen2 biases, padded batch), and leaks nothing', async () => {
    const { model } = await loadCheckpoint(fixtureDir('qwen2-bias'));
    const ids = tf.tensor2d(
      [
        [1, 17, 5, 42, 9, 3],
        [1, 23, 8, 0, 0, 0],
      ],
      undefined,
      'int32',
    );
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0, 0],
      ],
      undefined,
      'int32',
    );
    const positions = [2, 3, 5, 7, 8]; // row 0 at t = 2, 3, 5; row 1 at t = 1, 2
    const full = model.forward(ids, mask);
    const V = full.shape[2];
    const flat = (await full.data()) as Float32Array;
    const pos = tf.tensor1d(positions, 'int32');
    const before = tf.memory().numTensors;
    const at = model.forwardAt(ids, mask, pos);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(at.shape).toEqual([positions.length, V]);
    const want = positions.flatMap((p) => Array.from(flat.subarray(p * V, (p + 1) * V)));
    expect(maxAbsDiff(await at.data(), want)).toBeLessThan(1e-5);
    tf.dispose([ids, mask, full, at, pos]);
    model.dispose();
  });
});

describe('training forward', () => {
  it('is differentiable: gradient of one weight matches a central finite difference, no tensors leak', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    const ids = tf.tensor2d(
      [
        [1, 17, 5, 42],
        [1, 23, 0, 0],
      ],
      undefined,
      'int32',
    );
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ],
      undefined,
      'int32',
    );
    // A scalar that depends on every layer: the mean log-prob of a fixed target token.
    const loss = (): tf.Scalar =>
      tf.tidy(() => tf.mean(tf.slice(tf.logSoftmax(model.forward(ids, mask)), [0, 0, 7], [-1, -1, 1])) as tf.Scalar);
    const name = 'model.layers.0.self_attn.k_proj.weight';
    const v = model.variables.get(name)!;
    const warm = tf.variableGrads(loss);
    tf.dispose([warm.value, ...Object.values(warm.grads)]);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(loss);
    expect(Object.keys(grads)).toHaveLength(model.variables.size);
    const g = (await grads[v.name]!.data())[5]!;
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);

    const orig = await v.data();
    const at = async (delta: number): Promise<number> => {
      const w = Float32Array.from(orig);
      w[5] = w[5]! + delta;
      v.assign(tf.tensor(w, v.shape));
      const l = loss();
      const out = (await l.data())[0]!;
      l.dispose();
      return out;
    };
    const h = 1e-2;
    const fd = ((await at(h)) - (await at(-h))) / (2 * h);
    v.assign(tf.tensor(orig, v.shape));
    expect(Math.abs(g)).toBeGreaterThan(1e-4);
    expect(Math.abs(g - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(g)));
    tf.dispose([ids, mask]);
    model.dispose();
  });

  it('gradient checkpointing gives the same loss and gradients (qwen2 biases and GQA), keeps fewer tensors, leaks none', async () => {
    const { model } = await loadCheckpoint(fixtureDir('qwen2-bias'));
    const ids = tf.tensor2d(
      [
        [1, 17, 5, 42, 9, 3],
        [1, 23, 8, 0, 0, 0],
      ],
      undefined,
      'int32',
    );
    const mask = tf.tensor2d(
      [
        [1, 1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0, 0],
      ],
      undefined,
      'int32',
    );
    const loss = (): tf.Scalar =>
      tf.tidy(() => tf.mean(tf.slice(tf.logSoftmax(model.forward(ids, mask)), [0, 0, 7], [-1, -1, 1])) as tf.Scalar);
    const run = async (checkpoint: boolean) => {
      model.gradientCheckpointing = checkpoint;
      const before = tf.memory().numTensors;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(loss);
        tf.dispose([value, ...Object.values(grads)]);
      });
      const { value, grads } = tf.variableGrads(loss);
      const out = { loss: (await value.data())[0]!, grads: new Map<string, Float32Array>() };
      for (const [n, g] of Object.entries(grads)) out.grads.set(n, (await g.data()) as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      return { ...out, peakBytes: info.peakBytes };
    };
    const plain = await run(false);
    const ckpt = await run(true);
    model.gradientCheckpointing = false;
    expect(ckpt.loss).toBeCloseTo(plain.loss, 6);
    expect(ckpt.grads.size).toBe(model.variables.size);
    for (const [n, g] of plain.grads) expect(maxAbsDiff(ckpt.grads.get(n)!, g)).toBeLessThan(1e-6);
    expect(ckpt.peakBytes).toBeLessThan(plain.peakBytes);
    tf.dispose([ids, mask]);
    model.dispose();
  });
});

describe('fused attention inside the model (head dim 16, GQA 4/2, right padding)', () => {
  // Head dim 16 and 11 positions: other shapes than the golden fixtures' (head dim 8, 8 positions).
  const spec = ModelSpecSchema.parse({
    vocabSize: 61,
    hiddenSize: 64,
    intermediateSize: 96,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    tieWordEmbeddings: false,
    maxPositions: 64,
  });
  const ids = () =>
    tf.tensor2d(
      [
        [5, 17, 9, 42, 3, 8, 11, 2, 7, 30, 31],
        [1, 23, 8, 44, 0, 0, 0, 0, 0, 0, 0],
      ],
      undefined,
      'int32',
    );
  const mask = () =>
    tf.tensor2d(
      [
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
      ],
      undefined,
      'int32',
    );
  // Log-probs of the next token at the real positions only (as the trainer scores).
  const positions = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13];

  async function run(fused: boolean, checkpoint: boolean) {
    const { createModel } = await import('./create-model.js');
    const { LlamaModel } = await import('./llama-model.js');
    const model = createModel(spec, { seed: 3, initStd: 0.2 });
    const was = LlamaModel.fusedAttention;
    LlamaModel.fusedAttention = fused;
    model.gradientCheckpointing = checkpoint;
    try {
      const [x, m] = [ids(), mask()];
      const pos = tf.tensor1d(positions, 'int32');
      const loss = () => tf.tidy(() => tf.mean(tf.max(tf.logSoftmax(model.forwardAt(x, m, pos)), -1)) as tf.Scalar);
      const logits = Array.from(tf.tidy(() => model.forwardAt(x, m, pos)).dataSync());
      const { value, grads } = tf.variableGrads(loss);
      const out = { logits, loss: value.dataSync()[0]!, grads: new Map<string, Float32Array>() };
      const byTf = new Map([...model.variables].map(([hf, v]) => [v.name, hf]));
      for (const [n, g] of Object.entries(grads)) out.grads.set(byTf.get(n)!, g.dataSync() as Float32Array);
      tf.dispose([value, ...Object.values(grads), x, m, pos]);
      return out;
    } finally {
      LlamaModel.fusedAttention = was;
      model.dispose();
    }
  }

  it('gives the composite attention’s logits and gradients, with and without checkpointing', async () => {
    const composite = await run(false, false);
    for (const checkpoint of [false, true]) {
      const fused = await run(true, checkpoint);
      expect(maxAbsDiff(fused.logits, composite.logits)).toBeLessThan(1e-5);
      expect(fused.loss).toBeCloseTo(composite.loss, 6);
      expect(fused.grads.size).toBe(composite.grads.size);
      for (const [n, g] of composite.grads) {
        const scale = Math.max(1e-3, ...Array.from(g, Math.abs));
        expect(maxAbsDiff(fused.grads.get(n)!, g) / scale, n).toBeLessThan(1e-4);
      }
    }
  });
});
