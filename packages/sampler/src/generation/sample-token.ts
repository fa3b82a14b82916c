import { argmax } from './argmax.js';
import { softmax } from './softmax.js';
import { applyTemperature } from './temperature.js';
import { applyTopK } from './top-k.js';
import { applyTopP } from './top-p.js';

export interface SamplingParams {
  temperature: number;
  topK?: number;
  topP?: number;
}

/**
 * Picks the next token from one row of logits: argmax at temperature 0, otherwise temperature,
 * then top-k, then top-p, then one draw from `rng`. Modifies `logits` in place.
 */
export function sampleToken(logits: Float32Array, params: SamplingParams, rng: () => number): number {
  if (params.temperature === 0) return argmax(logits);
  applyTemperature(logits, params.temperature);
  if (params.topK) applyTopK(logits, params.topK);
  if (params.topP !== undefined && params.topP < 1) applyTopP(logits, params.topP);
  const probs = softmax(logits);
  const u = rng();
  let acc = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    acc += probs[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // rounding left u above the total: the last possible token
}
