import { UsageError } from '@irpo/contracts';
import type { tf } from '@irpo/core';
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

/** What a training step differentiates, updates and checkpoints: the adapter's A/B while one is attached, else every weight. */
export function trainedVariables(model: TrainableLM): Map<string, tf.Variable> {
  return model.trainableVariables ?? model.variables;
}

/** Runs `train` with `model.training` on (LoRA dropout), then restores the model's setting. */
export async function inTrainingMode<T>(model: TrainableLM, train: () => Promise<T>): Promise<T> {
  if (model.training === undefined) return train();
  const was = model.training;
  model.training = true;
  try {
    return await train();
  } finally {
    model.training = was;
  }
}
