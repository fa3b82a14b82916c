import { describe, expect, it } from 'vitest';
import { argmax } from './argmax.js';
import { logSoftmaxAt, softmax } from './softmax.js';
import { applyTemperature } from './temperature.js';
import { applyTopK } from './top-k.js';
import { applyTopP } from './top-p.js';

const row = (...xs: number[]) => Float32Array.from(xs);

describe('logits processors', () => {
  it('temperature divides logits', () => {
    expect(Array.from(applyTemperature(row(1, -2, 4), 0.5))).toEqual([2, -4, 8]);
    expect(() => applyTemperature(row(1), 0)).toThrow(/temperature/);
  });

  it('top-k keeps the k largest (and ties at the threshold)', () => {
    expect(Array.from(applyTopK(row(0.1, 3, 2, -1), 2))).toEqual([-Infinity, 3, 2, -Infinity]);
    expect(Array.from(applyTopK(row(1, 2, 2, 0), 2))).toEqual([-Infinity, 2, 2, -Infinity]);
    expect(Array.from(applyTopK(row(1, 2), 0))).toEqual([1, 2]);
  });

  it('top-p keeps the smallest set reaching mass p', () => {
    // probabilities 0.5, 0.3, 0.2 as logits ln(p): top-p 0.7 keeps {0.5, 0.3} (0.8 ≥ 0.7)
    const l = row(Math.log(0.5), Math.log(0.3), Math.log(0.2));
    expect(Array.from(applyTopP(l, 0.7)).map((x) => x === -Infinity)).toEqual([false, false, true]);
    // p 0.4: the most likely alone already reaches it
    const m = row(Math.log(0.2), Math.log(0.5), Math.log(0.3));
    expect(Array.from(applyTopP(m, 0.4)).map((x) => x === -Infinity)).toEqual([true, false, true]);
    expect(Array.from(applyTopP(row(1, 2), 1))).toEqual([1, 2]);
  });

  it('top-p agrees with a full sort on a large, flat vocabulary', () => {
    // many near-equal tokens force the candidate threshold down several times
    let s = 12345;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const p of [0.1, 0.5, 0.9, 0.999]) {
      const l = Float32Array.from({ length: 5000 }, () => rand() * 0.5);
      const probs = Array.from(l, Math.exp);
      const z = probs.reduce((a, b) => a + b, 0);
      const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
      let mass = 0;
      let k = 0;
      while (mass < p * z) mass += probs[order[k++]];
      const kept = new Set(order.slice(0, k));
      const out = applyTopP(l.slice(), p);
      out.forEach((x, i) => expect(x === -Infinity).toBe(!kept.has(i)));
    }
  });

  it('softmax and log-softmax agree with hand values', () => {
    // logits (0, ln 3): probabilities 1/4, 3/4
    const p = softmax(row(0, Math.log(3)));
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[1]).toBeCloseTo(0.75, 6);
    expect(logSoftmaxAt(row(0, Math.log(3)), 0)).toBeCloseTo(Math.log(0.25), 6);
    expect(softmax(row(1000, 1000))[0]).toBeCloseTo(0.5, 9);
  });

  it('argmax takes the first of ties', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
  });
});
