export * from './wilson-interval.js';
export * from './accuracy.js';
export * from './pass-at-k.js';
export * from './majority-vote.js';
export * from './group-by-problem.js';
export * from './scoring-task.js';
export * from './rescore-samples.js';
export * from './build-eval-report.js';
