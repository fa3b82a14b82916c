import * as tf from '@tensorflow/tfjs-core';
// The union package's Node bundle registers every op's gradient and the chained ops
// (tfjs-core's own Node bundle ships neither, and its ESM files do not load in Node).
import '@tensorflow/tfjs';
import { createLogger } from '@irpo/contracts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: BackendName;
  /** Why this backend, and why each better one was skipped. */
  reasons: string[];
}

const log = createLogger('core');

/**
 * Initialises TensorFlow.js on `requested` (or IRPO_BACKEND, or the best present) and returns
 * the choice. Provisional: the full preference order with native backends lands with issue 3.
 */
export async function initBackend(requested?: BackendName): Promise<BackendChoice> {
  const name = requested ?? (process.env.IRPO_BACKEND as BackendName | undefined) ?? 'cpu';
  if (name !== 'cpu') throw new Error(`backend ${name} is not available yet`);
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  const choice: BackendChoice = { name, reasons: ['cpu: requested'] };
  log.debug(`backend ${name}`);
  return choice;
}
