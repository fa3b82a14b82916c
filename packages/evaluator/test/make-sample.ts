import type { Sample } from '@irpo/contracts';

/** A scored sample with only the fields a metric reads set to something meaningful. */
export function makeSample(problemId: string, index: number, answer: string | null, correct: boolean): Sample {
  return {
    v: 1,
    problemId,
    index,
    prompt: 'Q',
    completion: `The answer is ${answer ?? '?'}`,
    answer,
    correct,
    tokens: 5,
    finishReason: 'stop',
  };
}
