import type { Problem } from '@irpo/contracts';

/**
 * What scoring needs from a task: the subset of @irpo/data's `Task` that the evaluator calls,
 * so any `Task` fits and tests can pass a small stand-in.
 */
export interface ScoringTask {
  readonly name: string;
  extractAnswer(completion: string): string | null;
  isCorrect(answer: string | null, problem: Problem): boolean;
  /** Canonical form for majority voting (equivalent answers vote together). */
  normalizeAnswer(answer: string): string;
  /** Optional: whether answers with different canonical forms are the same answer (MATH has it). */
  equivalentAnswers?(a: string, b: string): boolean;
}
