import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PreferencePairSchema, readJsonlAll, type RunConfig } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { computeRefLogps, trainPreference } from '@irpo/trainer';
import { ModelSlot } from './model-slot.js';
import { makeOptimizer } from './optimizer.js';
import { createProgress, type Progress } from './progress.js';

/**
 * One preference-training stage on its own: reference log-probs of `pairsFile` under the model
 * in `modelDir`, then DPO+NLL (per config.training) into `out/model`. Resumable like a run.
 */
export async function trainOnPairs(
  modelDir: string,
  pairsFile: string,
  out: string,
  config: RunConfig,
  progress: Progress = createProgress(),
): Promise<{ modelDir: string; steps: number }> {
  await initBackend(config.backend);
  const pairs = await readJsonlAll(pairsFile, PreferencePairSchema);
  const slot = new ModelSlot();
  try {
    const m = await slot.ensure(modelDir);
    progress.start('reference log-probs', pairs.length, 'pairs');
    const ref = await computeRefLogps(m.model, m.tokenizer, pairs, {
      out: join(out, 'ref-logps.jsonl'),
      batchSize: config.training.batchSize,
      onProgress: (d) => progress.update(d),
    });
    progress.done(`${ref.size} pairs`);
    const optimizer = makeOptimizer(config.training);
    let total = 0;
    const r = await trainPreference(m.model, m.tokenizer, pairs, ref, {
      training: config.training,
      epochs: config.iteration.epochs,
      maxSteps: config.iteration.maxSteps,
      seed: config.seed,
      logFile: join(out, 'train-log.jsonl'),
      checkpointDir: join(out, 'checkpoint'),
      optimizer,
      onStep: (s, step, n) => {
        if (total !== n) progress.start('training', (total = n), 'steps');
        progress.update(step, `loss ${s.loss.toFixed(3)}`);
      },
    });
    optimizer.dispose();
    progress.done(`${r.steps} steps`);
    await slot.save(join(out, 'model'));
    if (existsSync(join(out, 'checkpoint'))) await rm(join(out, 'checkpoint'), { recursive: true, force: true });
    return { modelDir: join(out, 'model'), steps: r.steps };
  } finally {
    slot.dispose();
  }
}
