import { ProblemSchema, readJsonlAll, SampleSchema, type EvalReport, type Sample } from '@irpo/contracts';
import { buildEvalReport, type ProblemRef } from './build-eval-report.js';
import { groupByProblem } from './group-by-problem.js';

export interface ScoreSamplesFileOptions {
  samplesFile: string;
  task: string;
  split?: string;
  model?: string;
  /** maj@k values; default: the samples drawn per problem (when sampled completions exist). */
  majK?: number[];
  /** pass@k values; default: 1 and the samples per problem. */
  passK?: number[];
  /** problems.jsonl with every evaluated problem (for meta breakdowns and problems without samples). */
  problemsFile?: string;
  breakdownBy?: string[];
  normalize?: (answer: string) => string;
  /** Whether answers with different canonical forms still vote together (a task's `equivalentAnswers`). */
  equivalent?: (a: string, b: string) => boolean;
  createdAt?: string;
}

export interface ScoredSamples {
  report: EvalReport;
  /** Things the reader should know about how the numbers were made. */
  notes: string[];
}

/**
 * Scores an existing samples.jsonl. Temperature-0 samples are the greedy answers; the others
 * are the draws for maj@k and pass@k. Without any temperature-0 sample, sample 0 of each
 * problem stands in for greedy (and a note says so).
 */
export async function scoreSamplesFile(options: ScoreSamplesFileOptions): Promise<ScoredSamples> {
  const all = await readJsonlAll(options.samplesFile, SampleSchema);
  const notes: string[] = [`Samples: ${options.samplesFile} (${all.length} lines)`];
  const greedyPool = all.filter((s) => s.temperature === 0);
  const sampled = all.filter((s) => s.temperature !== 0);
  let greedySamples: Sample[];
  if (greedyPool.length > 0) {
    greedySamples = [...groupByProblem(greedyPool).values()].map((g) => g[0]!);
  } else {
    greedySamples = [...groupByProblem(all).values()].map((g) => g[0]!);
    notes.push('No temperature-0 samples: "greedy" is each problem\'s first sample.');
  }
  let problems: ProblemRef[];
  if (options.problemsFile) problems = await readJsonlAll(options.problemsFile, ProblemSchema);
  else problems = [...new Set(all.map((s) => s.problemId))].map((id) => ({ id }));

  const counts = [...groupByProblem(sampled).values()].map((g) => g.length);
  const perProblem = sampled.length === 0 || counts.length < problems.length ? 0 : Math.min(...counts);
  const majK = options.majK ?? (perProblem > 1 ? [perProblem] : []);
  const passK = options.passK ?? (perProblem > 0 ? [...new Set([1, perProblem])] : []);
  if (sampled.length > 0 && !options.normalize) notes.push('Votes compare answers exactly (no task normaliser available).');
  const report = buildEvalReport({
    task: options.task,
    split: options.split ?? 'test',
    model: options.model ?? options.samplesFile,
    problems,
    greedySamples,
    samples: sampled,
    majK,
    passK,
    breakdownBy: options.breakdownBy,
    normalize: options.normalize,
    equivalent: options.equivalent,
    createdAt: options.createdAt,
  });
  return { report, notes };
}
