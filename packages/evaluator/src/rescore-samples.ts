import type { Problem, Sample } from '@irpo/contracts';
import type { ScoringTask } from './scoring-task.js';

/**
 * Samples judged again by `task`'s checker: the answer is extracted from the completion and
 * compared with the problem's gold answer. Use it when the checker changed since sampling, or
 * for samples written by another tool. A sample whose problem is unknown is an error.
 */
export function rescoreSamples(samples: readonly Sample[], problems: readonly Problem[], task: ScoringTask): Sample[] {
  const byId = new Map(problems.map((p) => [p.id, p]));
  return samples.map((s) => {
    const problem = byId.get(s.problemId);
    if (!problem) throw new Error(`sample ${s.problemId}#${s.index}: no such problem in the ${task.name} split`);
    const answer = task.extractAnswer(s.completion);
    return { ...s, answer, correct: task.isCorrect(answer, problem) };
  });
}
