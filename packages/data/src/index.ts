/**
 * @irpo/data: reasoning tasks (built-in arith, GSM8K, MATH, ARC-Challenge). `getTask(name,
 * options)` returns a `Task` that loads problems and prompts, extracts and checks answers.
 */
export { SPLITS, type LoadOptions, type Split, type Task } from './task.js';
export { TASK_NAMES, getTask, type GetTaskOptions } from './get-task.js';
export { ARITH_CHARSET, type ArithOp, type ArithOptions } from './arith/arith-generator.js';
export type { Gsm8kExtraction } from './answers/gsm8k-answer.js';
export { ArithTask } from './arith/arith-task.js';
export { Gsm8kTask } from './tasks/gsm8k-task.js';
export { MathTask } from './tasks/math-task.js';
export { ArcTask } from './tasks/arc-task.js';
export { answerValue } from './answers/numeric-answer.js';
export { mathAnswerKey } from './answers/math-answer-key.js';
export { mathEquiv } from './answers/math-equiv.js';
