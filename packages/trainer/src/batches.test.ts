import { describe, expect, it } from 'vitest';
import { epochBatches, lengthBucketedBatches } from './batches.js';

describe('lengthBucketedBatches', () => {
  it('groups items of similar length and covers each item once', () => {
    const lengths = [50, 10, 40, 20, 30, 60];
    const batches = lengthBucketedBatches(lengths, 2, 1);
    // sorted by length: 1(10) 3(20) | 4(30) 2(40) | 0(50) 5(60)
    expect(batches.map((b) => b.join(',')).sort()).toEqual(['0,5', '1,3', '4,2']);
    expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('is deterministic for a seed', () => {
    const lengths = Array.from({ length: 40 }, (_, i) => (i * 7) % 13);
    expect(lengthBucketedBatches(lengths, 4, 3)).toEqual(lengthBucketedBatches(lengths, 4, 3));
    expect(lengthBucketedBatches(lengths, 4, 3)).not.toEqual(lengthBucketedBatches(lengths, 4, 4));
  });
});

describe('epochBatches', () => {
  it('takes a prefix for a fractional epoch and stops at maxSteps', () => {
    const lengths = Array.from({ length: 8 }, (_, i) => i);
    expect(epochBatches(lengths, 2, 0, 1.5)).toHaveLength(4 + 2);
    expect(epochBatches(lengths, 2, 0, 3, 5)).toHaveLength(5);
  });
});
