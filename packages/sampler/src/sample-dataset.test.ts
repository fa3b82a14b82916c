import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlAll, SampleSchema } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCharTokenizer, fakeProblems, fakeTask, FakeLM } from './testing/fakes.js';
import type { Engine } from './engine.js';
import { LocalEngine } from './local-engine.js';
import { sampleDataset, type SampleDatasetOptions } from './sample-dataset.js';

let dir: string;
beforeAll(async () => {
  await initBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'irpo-sampler-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const problems = fakeProblems(7);
const engine = new LocalEngine(new FakeLM(7), new FakeCharTokenizer(), { maxBatchSize: 16 });
const opts = (out: string, extra: Partial<SampleDatasetOptions> = {}): SampleDatasetOptions => ({
  n: 3,
  temperature: 1,
  topP: 0.9,
  maxNewTokens: 12,
  seed: 5,
  out: join(dir, out),
  batchSize: 2,
  ...extra,
});

/** Fails after `calls` successful generate calls: a crash in the middle of a run. */
function crashingAfter(calls: number, inner: Engine): Engine {
  let left = calls;
  return {
    generate: async (req) => {
      if (left-- <= 0) throw new Error('simulated crash');
      return inner.generate(req);
    },
  };
}

describe('sampleDataset', () => {
  it('writes n scored samples per problem, each (problem, index) once', async () => {
    const progress: number[] = [];
    const res = await sampleDataset(problems, fakeTask, engine, opts('a.jsonl', { onProgress: (p) => progress.push(p.done) }));
    const samples = await readJsonlAll(join(dir, 'a.jsonl'), SampleSchema);
    expect(samples).toHaveLength(21);
    expect(new Set(samples.map((s) => `${s.problemId}/${s.index}`)).size).toBe(21);
    expect(res).toMatchObject({ done: 21, total: 21, written: 21, resumed: 0 });
    expect(progress).toEqual([6, 12, 18, 21]); // batches of 2 problems × 3 samples
    for (const s of samples) {
      const p = problems.find((q) => q.id === s.problemId)!;
      expect(s.prompt).toBe(fakeTask.prompt(p));
      expect(s.answer).toBe(fakeTask.extractAnswer(s.completion));
      expect(s.correct).toBe(s.answer === p.answer);
      expect(s.completion).not.toContain('\n\n');
      expect(s.seed).toBe(5);
    }
    expect(res.tokens).toBe(samples.reduce((a, s) => a + s.tokens, 0));
  });

  it('same seed → identical file; different seed → different samples', async () => {
    await sampleDataset(problems, fakeTask, engine, opts('b.jsonl'));
    await sampleDataset(problems, fakeTask, engine, opts('c.jsonl', { seed: 6 }));
    const a = await readFile(join(dir, 'a.jsonl'), 'utf8');
    expect(await readFile(join(dir, 'b.jsonl'), 'utf8')).toBe(a);
    const c = await readJsonlAll(join(dir, 'c.jsonl'), SampleSchema);
    const aa = await readJsonlAll(join(dir, 'a.jsonl'), SampleSchema);
    expect(c.map((s) => s.completion)).not.toEqual(aa.map((s) => s.completion));
  });

  it('resumes after a crash (and a half-written line) to the same file as an uninterrupted run', async () => {
    const out = 'resume.jsonl';
    await expect(sampleDataset(problems, fakeTask, crashingAfter(2, engine), opts(out))).rejects.toThrow('simulated crash');
    const partial = await readJsonlAll(join(dir, out), SampleSchema);
    expect(partial).toHaveLength(12);
    // a crash mid-append: drop the last two records, leave half a line
    const text = await readFile(join(dir, out), 'utf8');
    const lines = text.trimEnd().split('\n');
    await writeFile(join(dir, out), lines.slice(0, 10).join('\n') + '\n');
    await appendFile(join(dir, out), lines[10].slice(0, 25));
    const res = await sampleDataset(problems, fakeTask, engine, opts(out));
    expect(res).toMatchObject({ resumed: 10, written: 11, done: 21 });
    expect(await readFile(join(dir, out), 'utf8')).toBe(await readFile(join(dir, 'a.jsonl'), 'utf8'));
    // a third run has nothing left to do
    const again = await sampleDataset(problems, fakeTask, engine, opts(out));
    expect(again.written).toBe(0);
  });

  it('stops on abort and resumes', async () => {
    const ctrl = new AbortController();
    const out = 'abort.jsonl';
    await expect(
      sampleDataset(
        problems,
        fakeTask,
        engine,
        opts(out, { signal: ctrl.signal, onProgress: (p) => p.done >= 6 && ctrl.abort(new Error('stop now')) }),
      ),
    ).rejects.toThrow('stop now');
    await sampleDataset(problems, fakeTask, engine, opts(out));
    expect(await readFile(join(dir, out), 'utf8')).toBe(await readFile(join(dir, 'a.jsonl'), 'utf8'));
  });

  it('keeps `parallelism` one-problem calls in flight with no batch barrier, and writes in problem order', async () => {
    // A server-like engine: each call waits until the test answers it, so the order is the test's.
    const calls: { prompt: string; answer: () => void }[] = [];
    let inFlight = 0;
    let peak = 0;
    const server: Engine = {
      parallelism: 3,
      generate: (req) => {
        expect(req.prompts).toHaveLength(1); // one problem (its n samples) per call
        inFlight++;
        peak = Math.max(peak, inFlight);
        return new Promise((resolve) =>
          calls.push({
            prompt: req.prompts[0]!,
            answer: () => {
              inFlight--;
              resolve([
                Array.from({ length: req.n ?? 1 }, (_, j) => ({ text: `${req.prompts[0]}=${j}`, tokens: 1, finishReason: 'eos' as const })),
              ]);
            },
          }),
        );
      },
    };
    const seen: number[] = [];
    const out = join(dir, 'pool.jsonl');
    const run = sampleDataset(problems, fakeTask, server, { ...opts('pool.jsonl'), onProgress: (p) => seen.push(p.done) });
    /** Waits (on I/O turns, not on a clock) until `cond` holds. */
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
      expect(cond()).toBe(true);
    };
    await until(() => calls.length === 3);
    expect(calls.map((c) => c.prompt)).toEqual(problems.slice(0, 3).map((p) => fakeTask.prompt(p)));
    // the 2nd and 3rd answer first: new calls start at once, nothing is written before the 1st
    calls[2]!.answer();
    calls[1]!.answer();
    await until(() => calls.length === 5);
    expect(inFlight).toBe(3);
    expect(seen).toEqual([]);
    calls[0]!.answer();
    await until(() => seen.length === 3);
    expect(seen).toEqual([3, 6, 9]); // problems 1-3 written together, in order
    for (let i = 3; i < problems.length; i++) {
      await until(() => calls.length > i);
      calls[i]!.answer();
    }
    const res = await run;
    expect(peak).toBe(3);
    expect(res).toMatchObject({ done: 21, written: 21 });
    const written = await readJsonlAll(out, SampleSchema);
    expect(written.map((x) => `${x.problemId}#${x.index}`)).toEqual(problems.flatMap((p) => [0, 1, 2].map((j) => `${p.id}#${j}`)));
  });

  it('a failed call stops the others; what came before it stays written and a rerun completes it', async () => {
    let call = 0;
    const failing: Engine = {
      parallelism: 2,
      generate: async (req) => {
        const mine = call++;
        if (mine === 3) throw new Error('server said no');
        return [
          Array.from({ length: req.n ?? 1 }, (_, j) => ({ text: `${req.prompts[0]}=${j}`, tokens: 1, finishReason: 'eos' as const })),
        ];
      },
    };
    const out = join(dir, 'pool-fail.jsonl');
    await expect(sampleDataset(problems, fakeTask, failing, opts('pool-fail.jsonl'))).rejects.toThrow('server said no');
    const partial = await readJsonlAll(out, SampleSchema);
    expect(partial.length % 3).toBe(0);
    expect(partial.map((x) => x.problemId)).toEqual(problems.slice(0, partial.length / 3).flatMap((p) => [p.id, p.id, p.id]));
    call = 100;
    const res = await sampleDataset(problems, fakeTask, failing, opts('pool-fail.jsonl'));
    expect(res.resumed).toBe(partial.length);
    expect((await readJsonlAll(out, SampleSchema)).map((x) => `${x.problemId}#${x.index}`)).toEqual(
      problems.flatMap((p) => [0, 1, 2].map((j) => `${p.id}#${j}`)),
    );
  });

  it('says when no completion has arrived for stallWarnS', async () => {
    const stalls: { seconds: number; inFlight: number }[] = [];
    let release = () => {};
    const slow: Engine = {
      parallelism: 2,
      activity: () => ({ inFlight: 2 }),
      generate: (req) =>
        new Promise((resolve) => {
          release = () =>
            resolve([Array.from({ length: req.n ?? 1 }, (_, j) => ({ text: `x=${j}`, tokens: 1, finishReason: 'eos' as const }))]);
        }),
    };
    const run = sampleDataset(problems.slice(0, 1), fakeTask, slow, {
      ...opts('stall.jsonl'),
      stallWarnS: 0.05,
      onStall: (s) => {
        stalls.push(s);
        release();
      },
    });
    await run;
    expect(stalls.length).toBeGreaterThanOrEqual(1);
    expect(stalls[0]).toMatchObject({ inFlight: 2 });
  });

  it('refuses to resume a file sampled with another seed', async () => {
    await expect(sampleDataset(problems, fakeTask, engine, opts('a.jsonl', { seed: 99 }))).rejects.toThrow(/a\.jsonl:1: seed/);
  });

  it('records the reward a hook gives beside the true correct, and no reward without one', async () => {
    const flipAll = await sampleDataset(problems, fakeTask, engine, opts('reward.jsonl', { reward: (_id, _i, correct) => !correct }));
    const plain = await sampleDataset(problems, fakeTask, engine, opts('no-reward.jsonl'));
    const a = await readJsonlAll(join(dir, 'reward.jsonl'), SampleSchema);
    const b = await readJsonlAll(join(dir, 'no-reward.jsonl'), SampleSchema);
    expect(a.map((s) => s.reward)).toEqual(b.map((s) => !s.correct));
    expect(a.map(({ reward: _, ...rest }) => rest)).toEqual(b);
    expect(b.every((s) => !('reward' in s))).toBe(true);
    expect(flipAll.correct).toBe(plain.correct); // progress counts the true correct
  });
});
