import type { tf } from '@irpo/core';

/**
 * What the training loop needs of an optimiser (core's AdamW satisfies it): apply gradients at
 * a learning rate, and hand its state out and back for checkpoints.
 */
export interface Optimizer {
  applyGradients(grads: Map<string, tf.Tensor>, variables: Map<string, tf.Variable>, lr: number): void;
  /** Optimiser tensors by name (moments) plus the step count, for a checkpoint. */
  getState(): { step: number; tensors: Map<string, tf.Tensor> };
  setState(state: { step: number; tensors: Map<string, tf.Tensor> }): void;
  dispose(): void;
}
