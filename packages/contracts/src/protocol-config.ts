import { z } from 'zod';

/**
 * The run-level settings of the paper's protocol and its open questions: when to stop iterating
 * (open question 2) and how imperfect rewards change the method (open question 3).
 */
export const StopConfigSchema = z
  .object({
    /**
     * End the run after the first iteration whose dev accuracy gained less than this many points
     * (percent) over the iteration before (M0 for iteration 1); needs task.devLimit. null: run
     * every iteration (the paper saw gains of 17.5, 4.9, 3.1 and 0.5 points on GSM8K).
     */
    devGainBelow: z.number().nullable().default(null),
  })
  .strict();
export type StopConfig = z.output<typeof StopConfigSchema>;

export const RewardConfigSchema = z
  .object({
    /**
     * Probability that a training sample's reward (correct or wrong, what pairing and STaR read) is
     * flipped, drawn per sample from the run seed; samples.jsonl keeps the true `correct` beside
     * the `reward` used. 0: the gold reward, as in the paper.
     */
    flipProbability: z.number().min(0).max(1).default(0),
  })
  .strict();
export type RewardConfig = z.output<typeof RewardConfigSchema>;

/** One dev-accuracy measurement of a training run (a row of iter-t/dev.json). */
export const DevCheckpointSchema = z.object({
  /** Optimiser steps done when scored (0: the model the iteration started from). */
  step: z.number().int().nonnegative(),
  /** Greedy accuracy on the dev split, a fraction in [0, 1]. */
  accuracy: z.number().min(0).max(1),
});
export type DevCheckpoint = z.output<typeof DevCheckpointSchema>;

/**
 * iter-t/dev.json: the dev accuracy of each scored checkpoint of iteration t and the step kept as
 * M(t), the best (earliest on ties). iter-0/dev.json scores M0 alone (step 0).
 */
export const DevSelectionSchema = z.object({
  v: z.literal(1).default(1),
  /** Dev problems scored. */
  problems: z.number().int().nonnegative(),
  checkpoints: z.array(DevCheckpointSchema).min(1),
  chosen: z.number().int().nonnegative(),
});
export type DevSelection = z.output<typeof DevSelectionSchema>;

/** stop.json in a run directory: the stop rule ended the run after `afterIteration`, and why. */
export const StopRecordSchema = z.object({
  v: z.literal(1).default(1),
  /** The last iteration run. */
  afterIteration: z.number().int().positive(),
  /** Dev accuracy (fractions) of M(t-1) and M(t), and the gain in points. */
  devBefore: z.number().min(0).max(1),
  devAfter: z.number().min(0).max(1),
  gainPoints: z.number(),
  /** The threshold, stop.devGainBelow. */
  devGainBelow: z.number(),
  reason: z.string(),
});
export type StopRecord = z.output<typeof StopRecordSchema>;
