import type { Problem } from '@irpo/contracts';
import { finalAnswerLine } from '../answers/final-answer-line.js';
import { answerValue } from '../answers/numeric-answer.js';
import type { LoadOptions, Split, Task } from '../task.js';
import { generateArith, type ArithOptions } from './arith-generator.js';

/** Compact template: the character model sees few characters that are not the problem. */
export const ARITH_TEMPLATE = 'Q: {question}\nA: ';

/**
 * The built-in task: GSM8K-style word problems generated from a seed, with gold chain of
 * thought "12 + 5 = 17. 17 - 3 = 14.\nFinal answer: 14". Needs no download.
 */
export class ArithTask implements Task {
  readonly name = 'arith';
  readonly stop = ['\nQ:', '\n\n'];
  private readonly cache = new Map<Split, Problem[]>();

  constructor(readonly options: ArithOptions = {}) {}

  async load(split: Split, options: LoadOptions = {}): Promise<Problem[]> {
    let problems = this.cache.get(split);
    if (!problems) {
      problems = generateArith(split, this.options);
      this.cache.set(split, problems);
    }
    return options.limit === undefined ? problems.slice() : problems.slice(0, options.limit);
  }

  prompt(problem: Problem): string {
    return ARITH_TEMPLATE.replace('{question}', () => problem.question);
  }

  /** The value of the "Final answer:" line (its last number, as GSM8K reads it); null without one. */
  extractAnswer(completion: string): string | null {
    const line = finalAnswerLine(completion);
    return line === null ? null : answerValue(line);
  }

  isCorrect(answer: string | null, problem: Problem): boolean {
    if (answer === null) return false;
    const a = answerValue(answer);
    return a !== null && a === answerValue(problem.answer);
  }

  normalizeAnswer(answer: string): string {
    return answerValue(answer) ?? answer.trim();
  }

  goldCompletion(problem: Problem): string | undefined {
    return problem.solution;
  }
}
