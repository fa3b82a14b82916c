/**
 * Unbiased pass@k from n samples of which c are correct (Chen et al. 2021):
 * 1 - C(n-c, k) / C(n, k). The ratio of binomials is expanded as the product
 * prod_{i=n-c+1..n} (1 - k/i), which never forms a large binomial and so stays accurate for
 * n in the hundreds where C(n, k) overflows a double.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || n < 0 || c < 0 || c > n || k < 1) {
    throw new RangeError(`passAtK: need integers n >= c >= 0 and k >= 1, got n=${n} c=${c} k=${k}`);
  }
  if (k > n) throw new RangeError(`passAtK: k=${k} exceeds the ${n} samples drawn`);
  // Fewer than k wrong samples: every k-subset holds a correct one.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}
