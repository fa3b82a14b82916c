export * from './errors.js';
export * from './atomic.js';
export * from './jsonl.js';
export * from './records.js';
export * from './model-spec.js';
export * from './run-config.js';
export * from './log.js';
export * from './run-state.js';
