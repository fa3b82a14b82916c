import type { TrainingConfig } from '@irpo/contracts';
import { AdamW } from '@irpo/core';
import type { Optimizer } from '@irpo/trainer';

/** A fresh AdamW for one training stage (each iteration starts its optimiser anew). */
export function makeOptimizer(t: TrainingConfig): Optimizer {
  return new AdamW({ lr: t.lr, beta1: t.adamBeta1, beta2: t.adamBeta2, eps: t.adamEps, weightDecay: t.weightDecay });
}
