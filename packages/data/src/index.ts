export * from './task.js';
export * from './get-task.js';
export * from './rng.js';
export * from './arith/arith-generator.js';
export * from './arith/arith-task.js';
export * from './answers/final-answer-line.js';
export * from './answers/numeric-answer.js';
