import * as tf from '@tensorflow/tfjs-core';

/** Whether the current backend keeps tensors in this process's memory (wasm, cpu): host-side state then costs no transfers. */
export function onHostBackend(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}
