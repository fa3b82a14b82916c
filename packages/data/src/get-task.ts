import { UsageError } from '@irpo/contracts';
import type { ArithOptions } from './arith/arith-generator.js';
import { ArithTask } from './arith/arith-task.js';
import type { Gsm8kExtraction } from './answers/gsm8k-answer.js';
import { loadTemplateFile } from './prompts/templates.js';
import { ArcTask } from './tasks/arc-task.js';
import { Gsm8kTask } from './tasks/gsm8k-task.js';
import { MathTask } from './tasks/math-task.js';
import type { Task } from './task.js';

/** Options of `getTask`; each task reads the ones that concern it. */
export interface GetTaskOptions extends ArithOptions {
  /** Data file or directory of gsm8k/math/arc (a `load` option overrides it). */
  path?: string;
  /** A prompt template file with `{question}` (and `{choices}` for ARC) replacing the default. */
  templateFile?: string;
  /** GSM8K answer reading: 'final' (paper, default), 'strict' or 'flexible' (lm-eval). */
  extraction?: Gsm8kExtraction;
  /** MATH: 'full' (default) or 'math500'. */
  subset?: 'full' | 'math500';
}

export const TASK_NAMES = ['arith', 'gsm8k', 'math', 'arc'] as const;

/** A task by name ('arith' | 'gsm8k' | 'math' | 'arc'; 'math500' and 'arc-challenge' are aliases). */
export function getTask(name: string, options: GetTaskOptions = {}): Task {
  const template = options.templateFile ? loadTemplateFile(options.templateFile) : undefined;
  switch (name) {
    case 'arith':
      return new ArithTask(options);
    case 'gsm8k':
      return new Gsm8kTask({ path: options.path, extraction: options.extraction, template });
    case 'math':
    case 'math500':
      return new MathTask({ path: options.path, subset: name === 'math500' ? 'math500' : options.subset, template });
    case 'arc':
    case 'arc-challenge':
      return new ArcTask({ path: options.path, template });
    default:
      throw new UsageError(`unknown task "${name}" (known: ${TASK_NAMES.join(', ')})`);
  }
}
