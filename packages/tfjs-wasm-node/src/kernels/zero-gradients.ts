import * as tf from '@tensorflow/tfjs-core';

const BINARY = ['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'];
const UNARY = ['LogicalNot'];

/**
 * Comparison and logical ops are piecewise constant: their gradient is zero. tfjs registers none
 * for these, so a tape through e.g. `where(greater(x, 0), ...)` throws instead of passing zeros.
 * Registered globally (gradients are not per backend), only where missing.
 */
export function registerZeroGradients(): string[] {
  const added: string[] = [];
  for (const kernelName of BINARY) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, saved) => ({ a: () => tf.zerosLike(saved[0]!), b: () => tf.zerosLike(saved[1]!) }),
    });
    added.push(kernelName);
  }
  for (const kernelName of UNARY) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({ kernelName, inputsToSave: ['x'], gradFunc: (_dy, saved) => ({ x: () => tf.zerosLike(saved[0]!) }) });
    added.push(kernelName);
  }
  return added;
}
