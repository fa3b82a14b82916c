import { existsSync } from 'node:fs';
import { InputError, JsonlAppender, readJsonlLines, SampleSchema, type Problem, type Sample } from '@irpo/contracts';
import type { Engine } from './engine.js';
import type { SamplingTask } from './types.js';

export interface SampleDatasetOptions {
  /** Samples per problem. */
  n: number;
  temperature: number;
  topP?: number;
  topK?: number;
  maxNewTokens: number;
  seed: number;
  /** samples.jsonl: appended to; what it already holds is skipped (resume). */
  out: string;
  /** Problems per engine call (default 8): the unit of work a crash can lose. */
  batchSize?: number;
  /** Stop strings; default the task's. */
  stop?: string[];
  onProgress?: (progress: SampleProgress) => void;
  signal?: AbortSignal;
  /**
   * The reward training should use for sample `index` of a problem, given whether it is correct
   * (noisy-reward studies); recorded as the sample's `reward`. Absent: the reward is `correct`.
   */
  reward?: (problemId: string, index: number, correct: boolean) => boolean;
}

export interface SampleProgress {
  /** Samples written in this run and before it. */
  done: number;
  total: number;
  /** Samples found in the file at start (skipped). */
  resumed: number;
  /** Completion tokens generated in this run. */
  tokens: number;
  correct: number;
}

export interface SampleDatasetResult extends SampleProgress {
  /** Samples written by this run. */
  written: number;
}

const key = (problemId: string, index: number) => `${problemId}\u0000${index}`;

/**
 * Draws `n` samples per problem, scores each with the task and appends them to `out`, one
 * Sample per line. A rerun reads the file back (a half-written last line is dropped), skips the
 * (problem, index) pairs it holds and writes only the rest, in the order an uninterrupted run
 * would have: with the same seed the final file is the same.
 */
export async function sampleDataset(
  problems: Problem[],
  task: SamplingTask,
  engine: Engine,
  options: SampleDatasetOptions,
): Promise<SampleDatasetResult> {
  const { n, out } = options;
  const batchSize = options.batchSize ?? 8;
  const seen = new Set<string>();
  const ids = new Set<string>();
  for (const p of problems) {
    if (ids.has(p.id)) throw new InputError(out, undefined, 'problems', `duplicate problem id ${p.id}`);
    ids.add(p.id);
  }
  if (existsSync(out)) {
    for await (const { value: s, line } of readJsonlLines(out, SampleSchema, { tolerateTruncatedTail: true })) {
      if (s.seed !== undefined && s.seed !== options.seed)
        throw new InputError(
          out,
          line,
          'seed',
          `was sampled with seed ${s.seed}, this run uses ${options.seed}: use another --out or the same seed`,
        );
      if (s.temperature !== undefined && s.temperature !== options.temperature)
        throw new InputError(out, line, 'temperature', `was sampled at ${s.temperature}, this run uses ${options.temperature}`);
      seen.add(key(s.problemId, s.index));
    }
  }
  const total = problems.length * n;
  let resumed = 0;
  for (const p of problems) for (let i = 0; i < n; i++) if (seen.has(key(p.id, i))) resumed++;
  const progress: SampleProgress = { done: resumed, total, resumed, tokens: 0, correct: 0 };
  const todo = problems.filter((p) => Array.from({ length: n }, (_, i) => i).some((i) => !seen.has(key(p.id, i))));
  const appender = await JsonlAppender.open(out);
  let written = 0;
  try {
    for (let start = 0; start < todo.length; start += batchSize) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const batch = todo.slice(start, start + batchSize);
      const prompts = batch.map((p) => task.prompt(p));
      // All n are drawn even for a problem cut off halfway: per-sample seeds make the missing
      // ones come out as they would have, and such a problem is at most one per crash.
      const completions = await engine.generate({
        prompts,
        keys: batch.map((p) => p.id),
        n,
        temperature: options.temperature,
        topP: options.topP,
        topK: options.topK,
        maxNewTokens: options.maxNewTokens,
        stop: options.stop ?? task.stop,
        seed: options.seed,
        signal: options.signal,
      });
      const records: Sample[] = [];
      batch.forEach((p, b) => {
        completions[b].forEach((c, index) => {
          if (seen.has(key(p.id, index))) return;
          const answer = task.extractAnswer(c.text);
          const correct = task.isCorrect(answer, p);
          records.push({
            v: 1,
            problemId: p.id,
            index,
            prompt: prompts[b],
            completion: c.text,
            answer,
            correct,
            ...(options.reward ? { reward: options.reward(p.id, index, correct) } : {}),
            tokens: c.tokens,
            finishReason: c.finishReason,
            temperature: options.temperature,
            seed: options.seed,
          });
          progress.tokens += c.tokens;
          if (correct) progress.correct++;
        });
      });
      await appender.appendMany(records);
      written += records.length;
      progress.done += records.length;
      options.onProgress?.({ ...progress });
    }
  } finally {
    await appender.close();
  }
  return { ...progress, written };
}
