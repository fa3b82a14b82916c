import type { tf } from '@irpo/core';

/**
 * What the training loop needs of an optimiser; @irpo/core's AdamW has exactly this shape.
 * Tests drive the loop with a plain SGD of the same shape.
 */
export interface Optimizer {
  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void;
  getState(): { step: number; tensors: Record<string, tf.Tensor> };
  setState(state: { step: number; tensors: Record<string, tf.Tensor> }): void;
  dispose(): void;
}
