import { softmax } from './softmax.js';

/**
 * Nucleus filtering in place: keeps the smallest set of most likely tokens whose probability
 * mass reaches p (always at least the most likely one), setting the rest to -Infinity.
 *
 * Sorting a 50k vocabulary per row per step would dominate decoding, so only the candidates
 * above a threshold are sorted: the threshold drops (max/16, max/256, ...) until the tokens above
 * it hold mass ≥ p. Those tokens are a top set with enough mass, so the nucleus lies inside it.
 */
export function applyTopP(logits: Float32Array, p: number): Float32Array {
  if (p === undefined || p >= 1) return logits;
  if (!(p > 0)) throw new Error(`top_p must be in (0, 1], got ${p}`);
  const probs = softmax(logits);
  let max = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > max) max = probs[i];
  let candidates: number[] = [];
  for (let t = max / 16; ; t /= 16) {
    candidates = [];
    let mass = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] >= t) {
        candidates.push(i);
        mass += probs[i];
      }
    }
    if (mass >= p || t === 0 || candidates.length === probs.length) break;
  }
  candidates.sort((a, b) => probs[b] - probs[a] || a - b);
  const keep = new Uint8Array(probs.length);
  let mass = 0;
  for (const i of candidates) {
    keep[i] = 1;
    mass += probs[i];
    if (mass >= p) break;
  }
  for (let i = 0; i < logits.length; i++) if (!keep[i]) logits[i] = -Infinity;
  return logits;
}
