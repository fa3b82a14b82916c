import { describe, expect, it } from 'vitest';
import { mulberry32 } from '@irpo/contracts';
import { sampleToken } from './sample-token.js';

describe('sampleToken', () => {
  it('is argmax at temperature 0 without touching the rng', () => {
    let calls = 0;
    const rng = () => (calls++, 0.5);
    expect(sampleToken(Float32Array.from([0, 5, 1]), { temperature: 0 }, rng)).toBe(1);
    expect(calls).toBe(0);
  });

  it('draws by inverse CDF', () => {
    // probabilities 0.25, 0.75: u < 0.25 → 0, else 1
    const logits = () => Float32Array.from([0, Math.log(3)]);
    expect(sampleToken(logits(), { temperature: 1 }, () => 0.2)).toBe(0);
    expect(sampleToken(logits(), { temperature: 1 }, () => 0.3)).toBe(1);
  });

  it('matches the distribution empirically', () => {
    const rng = mulberry32(1);
    const counts = [0, 0, 0];
    const probs = [0.2, 0.5, 0.3];
    for (let i = 0; i < 5000; i++) counts[sampleToken(Float32Array.from(probs.map(Math.log)), { temperature: 1 }, rng)]++;
    // binomial sd at n=5000 is ≤ 0.0071; 0.03 is > 4 sd
    counts.forEach((c, i) => expect(Math.abs(c / 5000 - probs[i])).toBeLessThan(0.03));
  });

  it('never picks a token removed by top-k or top-p', () => {
    const rng = mulberry32(3);
    for (let i = 0; i < 500; i++) {
      expect(sampleToken(Float32Array.from([3, 2, 1, 0]), { temperature: 1, topK: 2 }, rng)).toBeLessThan(2);
      // probabilities 0.6, 0.3, 0.1: top-p 0.8 keeps tokens 0 and 1
      expect(sampleToken(Float32Array.from([0.6, 0.3, 0.1].map(Math.log)), { temperature: 1, topP: 0.8 }, rng)).toBeLessThan(2);
    }
  });

  it('low temperature concentrates on the argmax', () => {
    const rng = mulberry32(9);
    let top = 0;
    for (let i = 0; i < 200; i++) if (sampleToken(Float32Array.from([1, 2, 1.5]), { temperature: 0.05 }, rng) === 1) top++;
    // at T=0.05 token 1 has probability 1/(1+e^-10+e^-20) > 0.9999
    expect(top).toBe(200);
  });
});
