import { z } from 'zod';

/** Stages of one iteration, in order. Iteration 0 (M0) has only `model` and `eval`. */
export const STAGES = ['samples', 'pairs', 'ref-logps', 'train', 'model', 'eval'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * Which stages of which iteration are complete (state.json). A stage is marked only after its
 * files are whole on disk, so a rerun restarts at the first stage not marked.
 */
export const RunStateSchema = z.object({
  v: z.literal(1).default(1),
  /** Keyed by iteration number ("0" is M0). */
  iterations: z.record(z.string(), z.object({ done: z.array(z.enum(STAGES)).default([]) })).default({}),
  /** Set when every iteration is done. */
  complete: z.boolean().default(false),
  /**
   * The model folder that engine.endpoints serve, as engine.reload last left them (absent: M0),
   * so a resumed process knows whether to reload.
   */
  served: z.string().optional(),
  updatedAt: z.string().optional(),
});
export type RunState = z.output<typeof RunStateSchema>;

/**
 * The pointer of a training stage's resume checkpoint (`checkpoint.json` in its checkpoint
 * folder): the newest complete snapshot folder, the optimiser step it was taken after, and the
 * optimiser's own step counter. Not to be confused with gradient checkpointing, which saves no
 * files.
 */
export const ResumeCheckpointSchema = z.object({
  v: z.literal(1).default(1),
  /** Snapshot folder inside the checkpoint folder, `step-NNNNNN`. */
  dir: z.string().regex(/^step-\d+$/, 'expected a snapshot folder name like "step-000020"'),
  /** Optimiser steps done when the snapshot was taken; training resumes at the next one. */
  step: z.number().int().positive(),
  /** The optimiser's step counter (AdamW bias correction) at the snapshot. */
  optimizerStep: z.number().int().nonnegative(),
});
export type ResumeCheckpoint = z.output<typeof ResumeCheckpointSchema>;
