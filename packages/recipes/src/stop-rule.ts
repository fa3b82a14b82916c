import { join } from 'node:path';
import { DevSelectionSchema, readJsonFile, writeJsonAtomic, type StopRecord } from '@irpo/contracts';
import { chosenAccuracy } from './dev-selection.js';
import type { RunDir } from './run-dir.js';
import type { StageContext } from './stages.js';

/**
 * The stop rule (the paper's open question 2, how many iterations): after iteration t, whether
 * its dev accuracy gained less than stop.devGainBelow points over M(t-1)'s (M0's for t = 1).
 * When it fires, stop.json records why, and the recipe runs no further iteration; it is judged
 * from the dev.json files alone, so a rerun of the same command stops at the same place.
 */
export async function stopRuleFires(ctx: StageContext, run: RunDir, t: number): Promise<boolean> {
  const below = ctx.config.stop.devGainBelow;
  if (below === null) return false;
  const devOf = async (i: number) => chosenAccuracy(await readJsonFile(run.path(i, 'dev.json'), DevSelectionSchema));
  const devBefore = await devOf(t - 1);
  const devAfter = await devOf(t);
  const gainPoints = 100 * (devAfter - devBefore);
  if (gainPoints >= below) return false;
  const reason =
    `iteration ${t} gained ${gainPoints.toFixed(1)} points of dev accuracy (${(100 * devBefore).toFixed(1)}% → ${(100 * devAfter).toFixed(1)}%), ` +
    `less than stop.devGainBelow ${below}: no further iteration is run`;
  await writeJsonAtomic(join(run.root, 'stop.json'), {
    v: 1,
    afterIteration: t,
    devBefore,
    devAfter,
    gainPoints,
    devGainBelow: below,
    reason,
  } satisfies StopRecord);
  ctx.progress.info(`stop: ${reason}`);
  return true;
}
