/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a binomial proportion `correct / total`. Unlike the normal
 * ("Wald") interval it stays inside [0, 1] and is not degenerate at 0% or 100%, which matters
 * for the small test sets a laptop run evaluates on. With no trials nothing is known: [0, 1].
 */
export function wilsonInterval(correct: number, total: number, z: number = Z95): [number, number] {
  if (!Number.isInteger(correct) || !Number.isInteger(total) || correct < 0 || total < 0 || correct > total) {
    throw new RangeError(`wilsonInterval: need integers 0 <= correct <= total, got ${correct}/${total}`);
  }
  if (total === 0) return [0, 1];
  const p = correct / total;
  const z2 = z * z;
  const denom = 1 + z2 / total;
  const centre = (p + z2 / (2 * total)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total));
  // At p = 0 (or 1) the lower (upper) end is exactly 0 (1); say so rather than round near it.
  const lo = correct === 0 ? 0 : Math.max(0, centre - half);
  const hi = correct === total ? 1 : Math.min(1, centre + half);
  return [lo, hi];
}
