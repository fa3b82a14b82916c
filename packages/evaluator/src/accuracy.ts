import type { Accuracy } from '@irpo/contracts';
import { wilsonInterval } from './wilson-interval.js';

/** `correct / total` with its count and a Wilson 95% interval; 0 when there is nothing to count. */
export function accuracy(correct: number, total: number): Accuracy {
  return { accuracy: total === 0 ? 0 : correct / total, correct, total, ci95: wilsonInterval(correct, total) };
}
