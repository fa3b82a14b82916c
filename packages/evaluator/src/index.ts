/**
 * @irpo/evaluator: scoring, accuracy with Wilson intervals, maj@k, pass@k, eval reports, run
 * reports and comparison tables. No TensorFlow.js.
 */
export { accuracy } from './accuracy.js';
export { wilsonInterval } from './wilson-interval.js';
export { passAtK } from './pass-at-k.js';
export { majorityVote, voteOptions, type MajorityVoteOptions, type MajorityVoteResult } from './majority-vote.js';
export type { ScoringTask } from './scoring-task.js';
export { loadScoringTask } from './load-scoring-task.js';
export { scoreSamplesFile, type ScoreSamplesFileOptions, type ScoredSamples } from './score-samples-file.js';
export { buildEvalReport, type BuildEvalReportInput } from './build-eval-report.js';
export { evalMarkdown } from './eval-markdown.js';
export { writeRunReport, type RunReport } from './write-run-report.js';
export {
  compareRuns,
  compareMethods,
  writeComparison,
  type RunComparison,
  type RunComparisonRow,
  type MethodRun,
  type MethodRow,
  type MethodComparison,
} from './compare-runs.js';
export { logpDrift, driftOf, type LogpDrift } from './logp-drift.js';
