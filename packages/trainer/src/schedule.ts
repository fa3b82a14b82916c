import type { TrainingConfig } from '@irpo/contracts';
import { lrSchedule } from '@irpo/core';

/** The learning rate per optimiser step for a training config over `totalSteps` steps. */
export function scheduleFor(t: Pick<TrainingConfig, 'lr' | 'schedule' | 'warmupSteps'>, totalSteps: number): (step: number) => number {
  const warmupSteps = Math.min(t.warmupSteps, Math.max(0, totalSteps - 1));
  if (t.schedule !== 'constant' && totalSteps <= warmupSteps) return lrSchedule({ kind: 'constant', peakLr: t.lr, warmupSteps });
  return lrSchedule({ kind: t.schedule, peakLr: t.lr, warmupSteps, totalSteps });
}
