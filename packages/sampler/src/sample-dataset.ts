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
  /**
   * Problems per engine call (default 8) for an engine that batches inside a call (the local
   * engine), `batchParallelism` such calls in flight. An engine with `parallelism` > 1 (a server)
   * gets one problem per call instead, that many calls in flight.
   */
  batchSize?: number;
  /** Stop strings; default the task's. */
  stop?: string[];
  onProgress?: (progress: SampleProgress) => void;
  /**
   * Called every `stallWarnS` seconds (default 60; 0: never) while calls are in flight and no
   * completion has arrived for that long: a server that accepts requests but does not answer.
   */
  onStall?: (stall: SampleStall) => void;
  stallWarnS?: number;
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
  /** Engine calls in flight now (for a server: requests). */
  inFlight: number;
}

export interface SampleStall {
  /** Seconds since the last completion arrived (or since the start). */
  seconds: number;
  /** Requests in flight, as the engine counts them (or calls, when it does not say). */
  inFlight: number;
}

export interface SampleDatasetResult extends Omit<SampleProgress, 'inFlight'> {
  /** Samples written by this run. */
  written: number;
}

const key = (problemId: string, index: number) => `${problemId}\u0000${index}`;

/**
 * Draws `n` samples per problem, scores each with the task and appends them to `out`, one
 * Sample per line. An engine with `parallelism` P > 1 (HttpEngine) is kept busy: P calls of one
 * problem each stay in flight across the whole list (no batch barrier); likewise `batchParallelism`
 * calls of `batchSize` problems for a local engine over several decoders. A call that finishes early
 * waits, at most a bounded window ahead, until those before it are written. So the file is always
 * in problem order, as an uninterrupted run would write it. A rerun reads the file back (a
 * half-written last line is dropped), skips the (problem, index) pairs it holds and writes only
 * the rest: with the same seed the final file is the same. The first failed call stops the
 * others; what was written stays.
 */
export async function sampleDataset(
  problems: Problem[],
  task: SamplingTask,
  engine: Engine,
  options: SampleDatasetOptions,
): Promise<SampleDatasetResult> {
  const { n, out } = options;
  const perCall = (engine.parallelism ?? 1) > 1 ? 1 : (options.batchSize ?? 8);
  const parallel = Math.max(1, engine.parallelism ?? 1, engine.batchParallelism ?? 1);
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
  const progress: SampleProgress = { done: resumed, total, resumed, tokens: 0, correct: 0, inFlight: 0 };
  const todo = problems.filter((p) => Array.from({ length: n }, (_, i) => i).some((i) => !seen.has(key(p.id, i))));
  const units: Problem[][] = [];
  for (let start = 0; start < todo.length; start += perCall) units.push(todo.slice(start, start + perCall));

  // The first failure aborts the calls still in flight.
  const failed = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal;
  const fail = (err: unknown) => {
    if (!failed.signal.aborted) failed.abort(err);
  };

  /** One engine call: the n samples of each problem of unit u, scored. */
  const draw = async (batch: Problem[]): Promise<Sample[]> => {
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
      signal,
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
      });
    });
    return records;
  };

  const appender = await JsonlAppender.open(out);
  let written = 0;
  // Units finished but not yet written (an earlier one is still in flight), by unit index.
  const finished = new Map<number, Sample[]>();
  let nextUnit = 0; // the next unit to start
  let nextWrite = 0; // the next unit to write
  let inFlight = 0;
  let lastCompletion = Date.now();
  // How far past the oldest unwritten unit calls may start: bounds what a crash loses and what
  // waits in memory behind one slow request.
  const window = Math.max(4 * parallel, 16);
  let waiting: (() => void)[] = []; // workers waiting for the window to move
  const wakeAll = () => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  signal.addEventListener('abort', wakeAll, { once: true });
  let writing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> =>
    (writing = writing.then(async () => {
      while (finished.has(nextWrite)) {
        const records = finished.get(nextWrite)!;
        finished.delete(nextWrite);
        await appender.appendMany(records);
        nextWrite++;
        written += records.length;
        progress.done += records.length;
        for (const r of records) {
          progress.tokens += r.tokens;
          if (r.correct) progress.correct++;
        }
        progress.inFlight = inFlight;
        options.onProgress?.({ ...progress });
      }
      wakeAll();
    }));

  const worker = async (): Promise<void> => {
    while (!signal.aborted && nextUnit < units.length) {
      if (nextUnit - nextWrite >= window) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const u = nextUnit++;
      inFlight++;
      let records: Sample[];
      try {
        records = await draw(units[u]);
      } finally {
        inFlight--;
      }
      lastCompletion = Date.now();
      finished.set(u, records);
      await flush();
    }
  };

  const stallMs = (options.stallWarnS ?? 60) * 1000;
  const stallTimer =
    stallMs > 0 && options.onStall
      ? setInterval(
          () => {
            const quiet = Date.now() - lastCompletion;
            if (inFlight > 0 && quiet >= stallMs)
              options.onStall!({ seconds: Math.round(quiet / 1000), inFlight: engine.activity?.().inFlight ?? inFlight });
          },
          Math.min(stallMs, 60_000),
        )
      : undefined;
  stallTimer?.unref();
  try {
    const workers = Array.from({ length: Math.min(parallel, units.length) }, () =>
      worker().catch((err: unknown) => {
        fail(err);
        throw err;
      }),
    );
    const settled = await Promise.allSettled(workers);
    await writing;
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw failed.signal.aborted ? failed.signal.reason : rejected.reason;
  } finally {
    if (stallTimer) clearInterval(stallTimer);
    await appender.close();
  }
  return { done: progress.done, total, resumed, tokens: progress.tokens, correct: progress.correct, written };
}
