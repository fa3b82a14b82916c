import { readFileSync } from 'node:fs';
import { tf } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without types
import { assembleFlashAttention, generatedSource } from '../../scripts/build-wasm.mjs';
import { initBackend } from '@irpo/core';
import { flashAttentionSupports, flashAttentionWarmUp, flashBackward, flashForward, fusedCausalAttention } from './flash-attention.js';

/** The reference: the composite ops on tfjs's cpu backend (scores, causal/padding bias, softmax, mix; HF repeat_kv for GQA). */
function composite(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D | null): tf.Tensor4D {
  return tf.tidy((): tf.Tensor4D => {
    const [, t, h] = q.shape;
    const b = q.shape[0];
    const rep = h / k.shape[2];
    const groupOf = tf.tensor1d(
      Array.from({ length: h }, (_, i) => Math.floor(i / rep)),
      'int32',
    );
    const repeat = (x: tf.Tensor4D) => tf.gather(x, groupOf, 2) as tf.Tensor4D; // head i reads kv head ⌊i / rep⌋
    const qh = tf.transpose(q, [0, 2, 1, 3]);
    const kh = tf.transpose(repeat(k), [0, 2, 1, 3]);
    const vh = tf.transpose(repeat(v), [0, 2, 1, 3]);
    const causal = tf.linalg.bandPart(tf.ones([t, t]), -1, 0);
    const allowed = mask ? tf.mul(tf.reshape(causal, [1, 1, t, t]), tf.reshape(mask, [b, 1, 1, t])) : tf.reshape(causal, [1, 1, t, t]);
    const scores = tf.add(tf.matMul(qh, kh, false, true), tf.mul(tf.sub(1, allowed), -1e9));
    return tf.transpose(tf.matMul(tf.softmax(scores), vh), [0, 2, 1, 3]) as tf.Tensor4D;
  });
}

/** Deterministic values in [-scale, scale). */
function values(shape: number[], seed: number, scale = 1): tf.Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return tf.tensor4d(out, shape as [number, number, number, number]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('fused causal attention (flash-attention.wat)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the committed bytes are flash-attention.wat assembled', async () => {
    const bytes = (await assembleFlashAttention()) as Uint8Array;
    const committed = readFileSync(new URL('./flash-attention-wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(generatedSource(bytes));
  });

  it('takes any head dim (padded to a multiple of 16 inside) and whole query groups only', () => {
    expect(flashAttentionSupports({ b: 1, t: 5, heads: 4, kvHeads: 2, headDim: 32 })).toBe(true);
    expect(flashAttentionSupports({ b: 1, t: 5, heads: 4, kvHeads: 2, headDim: 24 })).toBe(true);
    expect(flashAttentionSupports({ b: 1, t: 5, heads: 3, kvHeads: 2, headDim: 32 })).toBe(false);
  });

  // Odd shapes: T not a multiple of 16 (the kernel's key blocks), grouped-query heads, d = 16, 48 and
  // (padded inside) 24 and 5,
  // padding keys at the end, in the middle and at the start (row 2: its first query rows see no key).
  const cases = [
    { b: 1, t: 1, heads: 1, kvHeads: 1, headDim: 16 },
    { b: 2, t: 7, heads: 2, kvHeads: 2, headDim: 16 },
    { b: 3, t: 13, heads: 6, kvHeads: 2, headDim: 48 },
    { b: 2, t: 37, heads: 3, kvHeads: 1, headDim: 32 },
    { b: 2, t: 19, heads: 4, kvHeads: 4, headDim: 24 }, // padded to 32 inside (the demo model's head dim)
    { b: 1, t: 9, heads: 2, kvHeads: 1, headDim: 5 },
  ];
  for (const s of cases) {
    for (const masked of [false, true]) {
      it(`values and gradients match the composite: ${JSON.stringify(s)}${masked ? ', padding keys' : ''}`, () => {
        const { b, t, heads, kvHeads, headDim } = s;
        const q = values([b, t, heads, headDim], 1, 0.8);
        const k = values([b, t, kvHeads, headDim], 2, 0.8);
        const v = values([b, t, kvHeads, headDim], 3);
        const maskRows = Array.from({ length: b }, (_, r) =>
          Array.from({ length: t }, (_, j) => (!masked ? 1 : r === 0 ? (j < t - 2 ? 1 : 0) : r === 1 ? (j === 3 ? 0 : 1) : j < 2 ? 0 : 1)),
        );
        const mask = masked ? tf.tensor2d(maskRows) : null;
        // Query rows with at least one key to attend to (the others are padding: the composite mixes
        // every value there, the kernel gives 0; no loss reads them).
        const live = tf.tensor(
          maskRows.flatMap((row) => row.map((_, i) => (row.slice(0, i + 1).some((m) => m !== 0) ? 1 : 0))),
          [b, t, 1, 1],
        );
        const w = values([b, t, heads, headDim], 4); // a fixed random projection of the output as the loss
        const loss = (f: typeof composite) => (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
          tf.sum(tf.mul(tf.mul(f(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, mask), w), live));
        const ref = composite(q, k, v, mask);
        const got = fusedCausalAttention(q, k, v, mask);
        expect(maxAbsDiff(tf.mul(got, live), tf.mul(ref, live))).toBeLessThan(2e-6);
        const gRef = tf.grads(loss(composite))([q, k, v]);
        const gGot = tf.grads(loss(fusedCausalAttention))([q, k, v]);
        for (let i = 0; i < 3; i++) {
          const scale = tf.max(tf.abs(gRef[i]!)).dataSync()[0]!;
          expect(maxAbsDiff(gGot[i]!, gRef[i]!) / Math.max(scale, 1)).toBeLessThan(2e-6);
        }
        // Deterministic: the same call gives the same bits.
        const again = tf.grads(loss(fusedCausalAttention))([q, k, v]);
        for (let i = 0; i < 3; i++) expect(Array.from(again[i]!.dataSync())).toEqual(Array.from(gGot[i]!.dataSync()));
      });
    }
  }

  it('a query row with no key to attend to gives 0 and no gradient', () => {
    const q = values([1, 3, 1, 16], 5);
    const k = values([1, 3, 1, 16], 6);
    const v = values([1, 3, 1, 16], 7);
    const mask = tf.tensor2d([[0, 1, 1]]);
    const out = fusedCausalAttention(q, k, v, mask).arraySync()[0]!;
    expect(out[0]![0]!.every((x) => x === 0)).toBe(true);
    const [dq] = tf.grads((qq: tf.Tensor) => tf.sum(fusedCausalAttention(qq as tf.Tensor4D, k, v, mask)))([q]);
    expect(Array.from(dq!.dataSync().slice(0, 16)).every((x) => x === 0)).toBe(true);
  });

  it('gives the same bits on 1, 2 and 3 threads (units never span threads)', async () => {
    const s = { b: 3, t: 29, heads: 4, kvHeads: 2, headDim: 32 };
    const q = values([s.b, s.t, s.heads, s.headDim], 11).dataSync() as Float32Array;
    const k = values([s.b, s.t, s.kvHeads, s.headDim], 12).dataSync() as Float32Array;
    const v = values([s.b, s.t, s.kvHeads, s.headDim], 13).dataSync() as Float32Array;
    const dO = values([s.b, s.t, s.heads, s.headDim], 14).dataSync() as Float32Array;
    const mask = Float32Array.from({ length: s.b * s.t }, (_, i) => (i % 7 === 3 ? 0 : 1));
    expect(await flashAttentionWarmUp(3)).toBe(3);
    const run = (threads: number) => {
      const f = flashForward(s, q, k, v, mask, threads);
      const o = f.o.slice();
      const lse = f.lse.slice();
      const g = flashBackward(s, { q, k, v, mask, o, lse }, dO, threads);
      return [o, lse, g.dq.slice(), g.dk.slice(), g.dv.slice()].map((x) => Array.from(x));
    };
    const one = run(1);
    expect(run(2)).toEqual(one);
    expect(run(3)).toEqual(one);
  });

  it("on the wasm backend (inputs read in place from its heap) gives the cpu backend's bits", async () => {
    const s = { b: 2, t: 21, heads: 2, kvHeads: 1, headDim: 16 };
    const loss = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
      tf.sum(
        tf.mul(
          fusedCausalAttention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, null),
          values([s.b, s.t, s.heads, s.headDim], 9),
        ),
      );
    const inputs = () => [
      values([s.b, s.t, s.heads, s.headDim], 1),
      values([s.b, s.t, s.kvHeads, s.headDim], 2),
      values([s.b, s.t, s.kvHeads, s.headDim], 3),
    ];
    const onBackend = () => {
      const [q, k, v] = inputs() as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const out = Array.from(fusedCausalAttention(q, k, v, null).dataSync());
      return [
        out,
        ...tf
          .grads(loss)([q, k, v])
          .map((g) => Array.from(g.dataSync())),
      ];
    };
    const cpu = onBackend();
    await initBackend('wasm', { threads: 1 });
    try {
      expect(tf.getBackend()).toBe('wasm');
      expect(onBackend()).toEqual(cpu);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
