import { UsageError } from '@irpo/contracts';
import { ArithTask } from './arith/arith-task.js';
import type { ArithOptions } from './arith/arith-generator.js';
import type { Task } from './task.js';

/** Options of `getTask`; each task reads the ones that concern it. */
export interface GetTaskOptions extends ArithOptions {
  /** Data file or directory of gsm8k/math/arc (a `load` option overrides it). */
  path?: string;
}

export const TASK_NAMES = ['arith'] as const;

/** A task by name ('arith' | 'gsm8k' | 'math' | 'arc'). */
export function getTask(name: string, options: GetTaskOptions = {}): Task {
  switch (name) {
    case 'arith':
      return new ArithTask(options);
    default:
      throw new UsageError(`unknown task "${name}" (known: ${TASK_NAMES.join(', ')})`);
  }
}
