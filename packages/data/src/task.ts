import type { Problem } from '@irpo/contracts';

export type Split = 'train' | 'test' | 'dev';

export interface LoadOptions {
  /** Keep only the first `limit` problems of the split (in the dataset's order). */
  limit?: number;
  /** A data file or directory; overrides the task's own `path` option. */
  path?: string;
}

/** One reasoning benchmark: loading, prompting and answer checking. */
export interface Task {
  readonly name: string;
  load(split: Split, options?: LoadOptions): Promise<Problem[]>;
  /** The rendered prompt a completion continues. */
  prompt(problem: Problem): string;
  extractAnswer(completion: string): string | null;
  isCorrect(answer: string | null, problem: Problem): boolean;
  /** Canonical form for majority voting (equivalent answers vote together). */
  normalizeAnswer(answer: string): string;
  /**
   * Optional, for majority voting: whether two answers whose `normalizeAnswer` forms differ are
   * still the same answer, as `isCorrect` would judge them against each other (MATH has it).
   */
  equivalentAnswers?(a: string, b: string): boolean;
  /** The gold solution written as a completion ending in the task's answer line, if the dataset has one. */
  goldCompletion(problem: Problem): string | undefined;
  /** Stop strings for sampling. */
  readonly stop: string[];
}

export const SPLITS: readonly Split[] = ['train', 'test', 'dev'];
