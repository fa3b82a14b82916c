// The backends the tests compare: wasm through this package, and tfjs's pure-JS cpu backend as the
// reference. The union package's Node bundle registers every op's gradient (tfjs-core's does not).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { setupWasmBackend, type WasmSetup } from '../src/index.js';

export { tf };

/** Switches to wasm, set up by this package (default threads: the cores Node may use). */
export function useWasm(): Promise<WasmSetup> {
  return setupWasmBackend();
}

/** Switches to the cpu backend, without its "install tfjs-node" banner. */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
}
