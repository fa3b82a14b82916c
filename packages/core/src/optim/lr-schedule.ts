export interface LrScheduleOptions {
  /** 'constant' (after warm-up), or decay to minLr by 'cosine' or 'linear' at totalSteps. */
  kind: 'constant' | 'cosine' | 'linear';
  /** The rate reached at the end of warm-up. */
  peakLr: number;
  /** Linear ramp from 0; 0 = none. */
  warmupSteps?: number;
  /** Needed by the decays: the step at which the rate reaches minLr. */
  totalSteps?: number;
  /** Floor of the decays; 0 as in transformers. */
  minLr?: number;
}

/**
 * Learning rate for optimiser step `step` (0-based: the number of steps already taken), the
 * formulas of transformers' get_{constant,cosine,linear}_schedule_with_warmup, so step 0 of a
 * warm-up runs at 0.
 */
export function lrSchedule(options: LrScheduleOptions): (step: number) => number {
  const { kind, peakLr } = options;
  const warmup = options.warmupSteps ?? 0;
  const total = options.totalSteps ?? 0;
  const minLr = options.minLr ?? 0;
  if (kind !== 'constant' && !(total > warmup)) {
    throw new Error(`lrSchedule: ${kind} decay needs totalSteps (${total}) > warmupSteps (${warmup})`);
  }
  return (step) => {
    if (step < warmup) return (peakLr * step) / warmup;
    if (kind === 'constant') return peakLr;
    const progress = Math.min(1, (step - warmup) / (total - warmup));
    const shape = kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
    return minLr + (peakLr - minLr) * shape;
  };
}
