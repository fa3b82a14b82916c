import type { TrainingConfig } from '@irpo/contracts';

// PROVISIONAL: replaced by @irpo/core's schedules after merge.
export function learningRate(t: Pick<TrainingConfig, 'lr' | 'schedule' | 'warmupSteps'>, step: number, total: number): number {
  if (t.warmupSteps > 0 && step < t.warmupSteps) return (t.lr * (step + 1)) / t.warmupSteps;
  if (t.schedule === 'constant') return t.lr;
  const span = Math.max(1, total - t.warmupSteps);
  const p = Math.min(1, (step - t.warmupSteps) / span);
  return t.schedule === 'linear' ? t.lr * (1 - p) : t.lr * 0.5 * (1 + Math.cos(Math.PI * p));
}
