import { join } from 'node:path';
import { InputError, type RunConfig } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { loadTokenizer } from '@irpo/model';
import { readTrainerPairs } from './launch/read-trainer-pairs.js';
import { createProgress, type Progress } from './progress.js';
import { runPromptFormat } from './prompt-format.js';
import { referenceStage, runStageContext, trainStage, type StageContext, type StageDir } from './stages.js';
import { taskOf } from './task-of.js';

export interface TrainOnPairsOptions {
  progress?: Progress;
  /**
   * Train as iteration t of a run with this config would (`irpo train --iteration`, what a run's
   * training.launch may call): that iteration's epochs and step cap, and its training seed,
   * so the model equals the one the run trains in process. Absent: iteration 1's settings, seeded
   * by config.seed itself.
   */
  iteration?: number;
}

/**
 * The reference and train stages on their own (`irpo train`): log-probs of the pairs in
 * `pairsFile` (irpo's pairs.jsonl, or the conversational or standard pairs a run writes for a
 * launched trainer) under the model in `modelDir`, then the configured preference loss (DPO+NLL
 * by default) into `out/model`. Files go straight into `out` (ref-logps.jsonl, ref.json,
 * train-log.jsonl, model/). A rerun after a crash keeps the reference log-probs already written
 * and continues from the resume checkpoint.
 */
export async function trainStageOnPairs(
  modelDir: string,
  pairsFile: string,
  out: string,
  config: RunConfig,
  o: TrainOnPairsOptions = {},
): Promise<{ modelDir: string; steps: number }> {
  if (config.training.evalEvery !== null) {
    throw new InputError(
      'run config',
      undefined,
      'training.evalEvery',
      'one training stage on a pairs file has no dev split to score checkpoints on; it applies to irpo run',
    );
  }
  const progress = o.progress ?? createProgress();
  await initBackend(config.backend);
  const tokenizer = await loadTokenizer(modelDir);
  const pairs = await readTrainerPairs(pairsFile, tokenizer, runPromptFormat(config, tokenizer));
  const t = o.iteration ?? 1;
  const base = runStageContext(flatDir(out), config, taskOf(config), progress, (_t, stage) => stage);
  const ctx: StageContext = o.iteration === undefined ? { ...base, seed: () => config.seed } : base;
  try {
    const ref = await referenceStage(ctx, t, modelDir, pairs);
    const r = await trainStage(ctx, t, modelDir, { kind: 'preference', pairs, ref });
    return { modelDir: r.modelDir, steps: r.steps ?? 0 };
  } finally {
    ctx.slot.dispose();
  }
}

/** Stage files straight in `root`, with no iterations and no state.json: no stage counts as done. */
function flatDir(root: string): StageDir {
  return { path: (_t, file) => join(root, file), isDone: () => false, markDone: () => Promise.resolve() };
}
