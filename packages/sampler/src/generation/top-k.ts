/**
 * Keeps the k largest logits, setting the rest to -Infinity in place. Ties at the k-th value are
 * all kept (as transformers' TopKLogitsWarper does), so the result never depends on index order.
 */
export function applyTopK(logits: Float32Array, k: number): Float32Array {
  if (!k || k <= 0 || k >= logits.length) return logits;
  const sorted = Float32Array.from(logits).sort(); // ascending
  const threshold = sorted[sorted.length - k];
  for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = -Infinity;
  return logits;
}
