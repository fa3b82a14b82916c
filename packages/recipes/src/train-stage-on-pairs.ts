import { join } from 'node:path';
import { InputError, PreferencePairSchema, readJsonlAll, type RunConfig } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { ModelSlot } from './model-slot.js';
import { createProgress, type Progress } from './progress.js';
import { referenceStage, trainStage, type StageContext, type StageDir } from './stages.js';
import { taskOf } from './task-of.js';

/**
 * The reference and train stages on their own (`irpo train`): log-probs of the pairs in
 * `pairsFile` under the model in `modelDir`, then the configured preference loss (DPO+NLL by
 * default) into `out/model`. Files go straight into `out` (ref-logps.jsonl, ref.json,
 * train-log.jsonl, model/); training is seeded by config.seed. A rerun after a crash keeps the
 * reference log-probs already written and continues from the resume checkpoint.
 */
export async function trainStageOnPairs(
  modelDir: string,
  pairsFile: string,
  out: string,
  config: RunConfig,
  progress: Progress = createProgress(),
): Promise<{ modelDir: string; steps: number }> {
  if (config.training.evalEvery !== null) {
    throw new InputError(
      'run config',
      undefined,
      'training.evalEvery',
      'one training stage on a pairs file has no dev split to score checkpoints on; it applies to irpo run',
    );
  }
  await initBackend(config.backend);
  const pairs = await readJsonlAll(pairsFile, PreferencePairSchema);
  const ctx: StageContext = {
    run: flatDir(out),
    config,
    task: taskOf(config),
    slot: new ModelSlot(),
    progress,
    seed: () => config.seed,
    label: (_t, stage) => stage,
  };
  try {
    const ref = await referenceStage(ctx, 1, modelDir, pairs);
    const r = await trainStage(ctx, 1, modelDir, { kind: 'preference', pairs, ref });
    return { modelDir: r.modelDir, steps: r.steps ?? 0 };
  } finally {
    ctx.slot.dispose();
  }
}

/** Stage files straight in `root`, with no iterations and no state.json: no stage counts as done. */
function flatDir(root: string): StageDir {
  return { path: (_t, file) => join(root, file), isDone: () => false, markDone: () => Promise.resolve() };
}
