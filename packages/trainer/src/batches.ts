import { mulberry32, shuffleInPlace } from '@irpo/contracts';

/**
 * Length-bucketed batches: items sorted by length are cut into batches of `batchSize`, so rows
 * of a batch pad little; the batch order is shuffled with `seed` so training does not see short
 * items first. Deterministic for (lengths, batchSize, seed), which resume relies on.
 */
export function lengthBucketedBatches(lengths: readonly number[], batchSize: number, seed: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return shuffleInPlace(batches, mulberry32(seed));
}

/**
 * The batches of a whole run of `epochs` passes (a fractional last epoch takes a prefix),
 * each epoch reshuffled with its own seed, cut at `maxSteps` when given.
 */
export function epochBatches(
  lengths: readonly number[],
  batchSize: number,
  seed: number,
  epochs: number,
  maxSteps: number | null = null,
): number[][] {
  const out: number[][] = [];
  const whole = Math.ceil(epochs);
  for (let e = 0; e < whole; e++) {
    const batches = lengthBucketedBatches(lengths, batchSize, seed * 1000 + e);
    const take = e === whole - 1 && epochs % 1 !== 0 ? Math.ceil(batches.length * (epochs % 1)) : batches.length;
    out.push(...batches.slice(0, take));
  }
  return maxSteps !== null ? out.slice(0, maxSteps) : out;
}

/**
 * Optimiser steps as lists of micro-batches (item indices): `batchSize` items per micro-batch,
 * `gradAccum` micro-batches per step, over `epochs` (cut at `maxSteps` optimiser steps).
 */
export function optimizerSteps(
  lengths: readonly number[],
  o: { batchSize: number; gradAccum: number; seed: number; epochs: number; maxSteps: number | null },
): number[][][] {
  const micro = epochBatches(lengths, o.batchSize, o.seed, o.epochs, o.maxSteps === null ? null : o.maxSteps * o.gradAccum);
  const steps: number[][][] = [];
  for (let i = 0; i < micro.length; i += o.gradAccum) steps.push(micro.slice(i, i + o.gradAccum));
  return steps;
}
