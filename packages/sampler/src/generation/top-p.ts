import { softmax } from './softmax.js';

/**
 * Nucleus filtering in place: keeps the smallest set of most likely tokens whose probability
 * mass reaches p (always at least the most likely one), setting the rest to -Infinity.
 */
export function applyTopP(logits: Float32Array, p: number): Float32Array {
  if (p === undefined || p >= 1) return logits;
  if (!(p > 0)) throw new Error(`top_p must be in (0, 1], got ${p}`);
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  let mass = 0;
  let keep = 0;
  while (keep < order.length) {
    mass += probs[order[keep]];
    keep++;
    if (mass >= p) break;
  }
  for (let r = keep; r < order.length; r++) logits[order[r]] = -Infinity;
  return logits;
}
