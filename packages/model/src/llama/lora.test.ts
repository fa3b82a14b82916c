import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@irpo/core';
import { LoraConfigSchema } from '@irpo/contracts';
import { loadCheckpoint } from '../io/checkpoint.js';
import { loadLoraAdapter } from '../io/lora-adapter.js';
import { fixtureDir } from '../../test/fixture-paths.js';
import type { LlamaModel } from './llama-model.js';
import { maxAbsDiff } from '../../test/numerics.js';

interface LoraGolden {
  inputIds: number[][];
  attentionMask: number[][];
  logits: number[][][];
  lossValue: number;
  grads: Record<string, number[]>;
}

beforeAll(async () => {
  await initBackend('cpu');
});

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

const IDS = [
  [1, 17, 5, 42, 9, 33, 60, 8],
  [1, 23, 11, 4, 50, 0, 0, 0],
];
const MASK = [
  [1, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 0, 0, 0],
];

/** forwardAt at a few positions, then prefill of row 0's first 5 tokens and 2 decode steps: every logit, concatenated. */
async function otherPaths(model: LlamaModel): Promise<Float32Array> {
  const ids = tf.tensor2d(IDS, undefined, 'int32');
  const mask = tf.tensor2d(MASK, undefined, 'int32');
  const pos = tf.tensor1d([2, 7, 11], 'int32');
  const at = model.forwardAt(ids, mask, pos);
  const prompt = tf.tensor2d([IDS[0]!.slice(0, 5)], undefined, 'int32');
  const promptMask = tf.onesLike(prompt);
  const { logits, cache } = model.prefill(prompt, promptMask, 2);
  const out = [...(await at.data()), ...(await logits.data())];
  for (const id of [33, 60]) {
    const tok = tf.tensor1d([id], 'int32');
    const step = model.decode(tok, cache);
    out.push(...(await step.data()));
    tf.dispose([tok, step]);
  }
  cache.dispose();
  tf.dispose([ids, mask, pos, at, prompt, promptMask, logits]);
  return Float32Array.from(out);
}

async function logitsOf(model: LlamaModel): Promise<Float32Array> {
  const ids = tf.tensor2d(IDS, undefined, 'int32');
  const mask = tf.tensor2d(MASK, undefined, 'int32');
  const out = model.forward(ids, mask);
  const data = (await out.data()) as Float32Array;
  tf.dispose([ids, mask, out]);
  return data;
}

/** The golden's loss: Σ over real next-token positions of log_softmax(logits)[next id]. */
function nextTokenLoss(model: LlamaModel, ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [b, t] = ids.shape;
    const logp = tf.logSoftmax(model.forward(ids, mask)); // [B, T, V]
    const prev = tf.slice(logp, [0, 0, 0], [b, t - 1, -1]); // [B, T-1, V]
    const next = tf.oneHot(tf.slice(ids, [0, 1], [b, t - 1]), model.spec.vocabSize); // [B, T-1, V]
    const picked = tf.sum(tf.mul(prev, next), -1); // [B, T-1]
    return tf.sum(tf.mul(picked, tf.cast(tf.slice(mask, [0, 1], [b, t - 1]), 'float32'))) as tf.Scalar;
  });
}

/** Sets every B of the attached adapter to seeded normal values (a "trained" adapter). */
function randomizeB(model: LlamaModel, seed: number): void {
  let i = 0;
  for (const [name, v] of model.trainableVariables) {
    if (name.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i++)));
  }
}

describe('LoraConfigSchema', () => {
  it('has PEFT-like defaults, is strict and validates targets', () => {
    expect(LoraConfigSchema.parse({})).toEqual({
      r: 16,
      alpha: 32,
      dropout: 0,
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    });
    expect(LoraConfigSchema.safeParse({ rank: 8 }).success).toBe(false);
    const bad = LoraConfigSchema.safeParse({ targetModules: ['q_proj', 'lm_head'] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['targetModules', 1]);
    expect(LoraConfigSchema.safeParse({ targetModules: ['q_proj', 'q_proj'] }).success).toBe(false);
    expect(LoraConfigSchema.safeParse({ targetModules: [] }).success).toBe(false);
    expect(LoraConfigSchema.safeParse({ dropout: 1 }).success).toBe(false);
    expect(LoraConfigSchema.safeParse({ r: 0 }).success).toBe(false);
  });
});

describe('attachLora', () => {
  it('starts as the base model exactly (B = 0) in forward, forwardAt and generation, with PEFT’s A init', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    const base = await logitsOf(model);
    const baseOther = await otherPaths(model);
    model.attachLora({ r: 16, alpha: 32, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 7 });
    expect(maxAbsDiff(await logitsOf(model), base)).toBe(0);
    expect(maxAbsDiff(await otherPaths(model), baseOther)).toBe(0);

    // 2 layers × 3 targets × (A, B), named as PEFT saves them.
    const names = [...model.trainableVariables.keys()];
    expect(names).toHaveLength(12);
    expect(names).toContain('base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight');
    const a = model.trainableVariables.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')!;
    const b = model.trainableVariables.get('base_model.model.model.layers.0.mlp.down_proj.lora_B.weight')!;
    expect(a.shape).toEqual([16, 48]);
    expect(b.shape).toEqual([32, 16]);
    expect(maxAbs(await b.data())).toBe(0);
    // kaiming_uniform_(a = sqrt(5)) on A [r, in]: uniform(±1/sqrt(in)), std = bound/sqrt(3).
    const av = (await a.data()) as Float32Array;
    const bound = 1 / Math.sqrt(48);
    expect(maxAbs(av)).toBeLessThanOrEqual(bound);
    expect(maxAbs(av)).toBeGreaterThan(0.9 * bound);
    const mean = av.reduce((s, x) => s + x, 0) / av.length;
    const std = Math.sqrt(av.reduce((s, x) => s + (x - mean) ** 2, 0) / av.length);
    expect(Math.abs(mean)).toBeLessThan(0.15 * bound);
    expect(Math.abs(std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.1);

    // The same seed gives the same A; another seed another.
    const first = Float32Array.from(av);
    model.detachLora();
    model.attachLora({ r: 16, alpha: 32, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 7 });
    const again = await model.trainableVariables.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')!.data();
    expect(maxAbsDiff(again, first)).toBe(0);
    model.detachLora();
    model.attachLora({ r: 16, alpha: 32, targetModules: ['q_proj', 'v_proj', 'down_proj'] }, { seed: 8 });
    const other = await model.trainableVariables.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')!.data();
    expect(maxAbsDiff(other, first)).toBeGreaterThan(0.01);
    expect(() => model.attachLora({}, {})).toThrow(/already attached/);
    expect(() => model.detachLora()).not.toThrow();
    expect(() => model.attachLora({ targetModules: ['lm_head' as 'q_proj'] })).toThrow(/targetModules\[0\]/);
    model.dispose();
  });

  it('trainableVariables holds only A/B; a gradient step moves A and B and no base weight', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    expect(model.trainableVariables).toBe(model.variables);
    await loadLoraAdapter(fixtureDir('lora-gqa'), model); // nonzero B: A gets gradients too
    const trainable = model.trainableVariables;
    expect(trainable.size).toBe(2 * 5 * 2);
    for (const name of trainable.keys())
      expect(name).toMatch(/^base_model\.model\.model\.layers\.\d\.(self_attn|mlp)\.\w+_proj\.lora_[AB]\.weight$/);
    const baseVars = new Set(model.variables.values());
    for (const v of trainable.values()) expect(baseVars.has(v)).toBe(false);

    const baseBefore = new Map<string, Float32Array>();
    for (const [n, v] of model.variables) baseBefore.set(n, Float32Array.from(await v.data()));
    const loraBefore = new Map<string, Float32Array>();
    for (const [n, v] of trainable) loraBefore.set(n, Float32Array.from(await v.data()));

    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const mask = tf.tensor2d(MASK, undefined, 'int32');
    const { value, grads } = tf.variableGrads(() => nextTokenLoss(model, ids, mask), [...trainable.values()]);
    expect(Object.keys(grads).sort()).toEqual([...trainable.values()].map((v) => v.name).sort());
    tf.tidy(() => {
      for (const v of trainable.values()) v.assign(tf.add(v, tf.mul(grads[v.name]!, 1e-2)));
    });
    tf.dispose([value, ...Object.values(grads)]);

    // Without a list, tf differentiates only the trainable variables: the base is frozen.
    const all = tf.variableGrads(() => nextTokenLoss(model, ids, mask));
    const modelGradNames = Object.keys(all.grads).filter((n) => [...trainable.values(), ...baseVars].some((v) => v.name === n));
    expect(modelGradNames.sort()).toEqual([...trainable.values()].map((v) => v.name).sort());
    tf.dispose([all.value, ...Object.values(all.grads)]);

    for (const [n, v] of trainable) expect(maxAbsDiff(await v.data(), loraBefore.get(n)!)).toBeGreaterThan(0);
    for (const [n, v] of model.variables) expect(maxAbsDiff(await v.data(), baseBefore.get(n)!)).toBe(0);

    model.detachLora();
    expect(model.trainableVariables).toBe(model.variables);
    expect([...model.variables.values()].every((v) => v.trainable)).toBe(true);
    tf.dispose([ids, mask]);
    model.dispose();
  });
});

describe('mergeLora', () => {
  it('merged forward equals the adapted forward within 1e-5 and leaves a plain, trainable model', async () => {
    const { model } = await loadCheckpoint(fixtureDir('qwen2-bias'));
    const base = await logitsOf(model);
    model.attachLora({ r: 4, alpha: 16 }, { seed: 3 });
    randomizeB(model, 11);
    const adapted = await logitsOf(model);
    expect(maxAbsDiff(adapted, base)).toBeGreaterThan(0.1);
    const before = tf.memory().numTensors;
    const adapterTensors = model.trainableVariables.size;
    model.mergeLora();
    expect(tf.memory().numTensors).toBe(before - adapterTensors);
    expect(model.loraConfig).toBeUndefined();
    expect(model.trainableVariables).toBe(model.variables);
    expect([...model.variables.values()].every((v) => v.trainable)).toBe(true);
    expect(maxAbsDiff(await logitsOf(model), adapted)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('generation with an adapter', () => {
  it('prefill + decode apply the adapter without merging: they match the adapted forward', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    await loadLoraAdapter(fixtureDir('lora-gqa'), model);
    // One row, no padding: forward logits at t = 3, 4, 5 are prefill(ids[0..3]) then decode(ids[4]), decode(ids[5]).
    const row = IDS[0]!;
    const full = await logitsOf(model);
    const V = model.spec.vocabSize;
    const at = (t: number): Float32Array => full.subarray(t * V, (t + 1) * V);
    const ids = tf.tensor2d([row.slice(0, 4)], undefined, 'int32');
    const mask = tf.ones([1, 4], 'int32') as tf.Tensor2D;
    const { logits, cache } = model.prefill(ids, mask, 4);
    expect(maxAbsDiff(await logits.data(), at(3))).toBeLessThan(1e-4);
    for (const t of [4, 5]) {
      const tok = tf.tensor1d([row[t]!], 'int32');
      const step = model.decode(tok, cache);
      expect(maxAbsDiff(await step.data(), at(t))).toBeLessThan(1e-4);
      tf.dispose([tok, step]);
    }
    cache.dispose();
    tf.dispose([ids, mask, logits]);
    model.dispose();
  });
});

// Golden from tools/fixtures/lora_golden.py: float64 torch with the explicit formula
// W x + (alpha / r) B A x on a PEFT-layout adapter over the llama-gqa fixture.
describe('golden: lora-gqa adapter on llama-gqa', () => {
  it.each([false, true])('logits within 1e-4 and A/B gradients within 1e-4 relative (gradient checkpointing: %s)', async (checkpoint) => {
    const golden = JSON.parse(await readFile(join(fixtureDir('lora-gqa'), 'golden.json'), 'utf8')) as LoraGolden;
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    const loaded = await loadLoraAdapter(fixtureDir('lora-gqa'), model);
    expect(loaded.config).toEqual({ r: 4, alpha: 8, dropout: 0, targetModules: ['v_proj', 'q_proj', 'down_proj', 'o_proj', 'up_proj'] });
    expect(loaded.baseModelPath).toBe('test/fixtures/llama-gqa');
    model.gradientCheckpointing = checkpoint;
    const logits = await logitsOf(model);
    expect(maxAbsDiff(logits, golden.logits.flat(2))).toBeLessThan(1e-4);

    const ids = tf.tensor2d(golden.inputIds, undefined, 'int32');
    const mask = tf.tensor2d(golden.attentionMask, undefined, 'int32');
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => nextTokenLoss(model, ids, mask), [...model.trainableVariables.values()]);
    expect(Math.abs((await value.data())[0]! - golden.lossValue)).toBeLessThan(1e-4 * Math.abs(golden.lossValue));
    expect(Object.keys(golden.grads).sort()).toEqual([...model.trainableVariables.keys()].sort());
    for (const [name, v] of model.trainableVariables) {
      const want = golden.grads[name]!;
      const got = await grads[v.name]!.data();
      expect(maxAbsDiff(got, want) / maxAbs(want), name).toBeLessThan(1e-4);
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ids, mask]);
    model.dispose();
  });
});

describe('LoRA dropout', () => {
  it('applies only in training mode, draws fresh masks per forward, and a checkpointed block recomputes with the same masks', async () => {
    const { model } = await loadCheckpoint(fixtureDir('llama-gqa'));
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const mask = tf.tensor2d(MASK, undefined, 'int32');
    const cfg = { r: 4, alpha: 8, dropout: 0.5 };
    const run = async (checkpoint: boolean) => {
      model.attachLora(cfg, { seed: 5 });
      randomizeB(model, 21);
      model.gradientCheckpointing = checkpoint;
      model.training = true;
      const { value, grads } = tf.variableGrads(() => nextTokenLoss(model, ids, mask), [...model.trainableVariables.values()]);
      const out = { loss: (await value.data())[0]!, grads: new Map<string, Float32Array>() };
      for (const [n, v] of model.trainableVariables) out.grads.set(n, (await grads[v.name]!.data()) as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      const second = nextTokenLoss(model, ids, mask);
      const secondLoss = (await second.data())[0]!;
      model.training = false;
      const evalA = nextTokenLoss(model, ids, mask);
      const evalB = nextTokenLoss(model, ids, mask);
      const evals = [(await evalA.data())[0]!, (await evalB.data())[0]!];
      tf.dispose([second, evalA, evalB]);
      model.detachLora();
      return { ...out, secondLoss, evals };
    };
    const plain = await run(false);
    const ckpt = await run(true);
    model.gradientCheckpointing = false;
    // Eval mode is deterministic and differs from a dropped-out training forward.
    expect(plain.evals[0]).toBe(plain.evals[1]);
    expect(Math.abs(plain.loss - plain.evals[0]!)).toBeGreaterThan(1e-3);
    // The next training forward draws new masks.
    expect(Math.abs(plain.secondLoss - plain.loss)).toBeGreaterThan(1e-3);
    // Same seed, same masks: checkpointing changes nothing, so its recomputation reused them.
    expect(ckpt.loss).toBeCloseTo(plain.loss, 4);
    for (const [n, g] of plain.grads) expect(maxAbsDiff(ckpt.grads.get(n)!, g) / maxAbs(g), n).toBeLessThan(1e-5);
    tf.dispose([ids, mask]);
    model.dispose();
  });
});
