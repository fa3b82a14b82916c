import { UsageError } from '@irpo/contracts';
import type { TrainableLM } from './types.js';

/**
 * Runs `train` with the model's gradient checkpointing (activations recomputed in the backward
 * pass instead of kept, trading compute for memory) set to `on`, then restores the model's
 * setting. Nothing here touches the resume checkpoint on disk.
 */
export async function withGradientCheckpointing<T>(model: TrainableLM, on: boolean, train: () => Promise<T>): Promise<T> {
  if (!on) return train();
  if (model.gradientCheckpointing === undefined)
    throw new UsageError('training.gradientCheckpointing: this model cannot recompute its activations');
  const was = model.gradientCheckpointing;
  model.gradientCheckpointing = true;
  try {
    return await train();
  } finally {
    model.gradientCheckpointing = was;
  }
}
