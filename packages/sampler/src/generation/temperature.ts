/** Divides logits by the temperature in place (t > 0; t = 0 is greedy and handled by the caller). */
export function applyTemperature(logits: Float32Array, temperature: number): Float32Array {
  if (!(temperature > 0)) throw new Error(`temperature must be > 0 here, got ${temperature}`);
  if (temperature === 1) return logits;
  for (let i = 0; i < logits.length; i++) logits[i] /= temperature;
  return logits;
}
