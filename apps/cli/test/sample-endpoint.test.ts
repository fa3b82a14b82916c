import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlAll, SampleSchema, type Problem } from '@irpo/contracts';
import { getTask } from '@irpo/data';
import type { Completion, Engine, GenerateRequest, OpenAIServer } from '@irpo/sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';

/**
 * The server's model: for each arith prompt it knows the problem (by its question) and answers
 * sample 0 right, sample 1 off by one, sample 2 with no "Final answer:" line, each naming the seed
 * it was asked with, so the test can tell how the real task scored each one and which seed it drew.
 */
class ScriptedEngine implements Engine {
  constructor(private readonly answers: Map<string, string>) {}
  async generate(req: GenerateRequest): Promise<Completion[][]> {
    return req.prompts.map((prompt, i) => {
      const question = /^Q: (.*)\nA: $/s.exec(prompt)?.[1];
      const answer = question === undefined ? undefined : this.answers.get(question);
      if (answer === undefined) throw new Error(`not an arith prompt of the train split: ${JSON.stringify(prompt)}`);
      const seed = req.seeds?.[i];
      const texts = [
        `Seed ${seed}.\nFinal answer: ${answer}`,
        `Seed ${seed}.\nFinal answer: ${Number(answer) + 1}`,
        `Seed ${seed}, no idea.`,
      ];
      return Array.from({ length: req.n ?? 1 }, (_, j) => ({ text: texts[j % 3]!, tokens: 4, finishReason: 'stop' as const }));
    });
  }
}

let dir: string;
let server: OpenAIServer;
let url: string;
let train: Problem[];
beforeAll(async () => {
  // imported lazily, as the CLI's commands do (the module-boundary rule wants one way)
  const { createServer } = await import('@irpo/sampler');
  dir = await mkdtemp(join(tmpdir(), 'irpo-cli-sample-'));
  train = await getTask('arith').load('train', { limit: 5 });
  server = createServer(new ScriptedEngine(new Map(train.map((p) => [p.question, p.answer]))), { modelName: 'scripted' });
  url = `${(await server.listen()).url}/v1`;
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function irpo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  try {
    const code = await run(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write;
  }
}

describe('irpo sample --endpoint', () => {
  it('writes samples of the real arith task, scored by it, through an OpenAI-compatible server, and resumes without duplicates', async () => {
    const out = join(dir, 'samples.jsonl');
    const args = [
      'sample',
      '--task',
      'arith',
      '--endpoint',
      url,
      '--n',
      '3',
      '--temperature',
      '1',
      '--max-new-tokens',
      '10',
      '--seed',
      '7',
      '--out',
      out,
      '--json',
      '--log-level',
      'warn',
    ];
    const first = await irpo(...args, '--limit', '3');
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as { written: number; resumed: number; samples: number; correct: number };
    expect(summary).toMatchObject({ written: 9, resumed: 0, samples: 9, correct: 3 });
    // more problems: the first 3 are resumed, only the new ones are sampled
    const second = await irpo(...args, '--limit', '5');
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ written: 6, resumed: 9, samples: 15, correct: 2 });
    const samples = await readJsonlAll(out, SampleSchema);
    expect(new Set(samples.map((s) => `${s.problemId}/${s.index}`)).size).toBe(15);
    const { promptSeed } = await import('@irpo/sampler');
    for (const s of samples) {
      const p = train.find((q) => q.id === s.problemId)!;
      expect(s.problemId).toMatch(/^arith\/train\/[0-4]$/);
      expect(s.prompt).toBe(`Q: ${p.question}\nA: `); // the arith task's template
      // scored by the arith task: the "Final answer:" value against the gold answer
      const want = [
        [p.answer, true],
        [String(Number(p.answer) + 1), false],
        [null, false],
      ][s.index];
      expect([s.answer, s.correct], `${s.problemId}/${s.index}: ${s.completion}`).toEqual(want);
      // the request carried the prompt's seed: promptSeed(--seed, problem id)
      expect(s.seed).toBe(7);
      expect(s.completion).toMatch(new RegExp(`^Seed ${promptSeed(7, p.id)}[.,]`));
    }
    // the same run from scratch gives the same file
    const fresh = join(dir, 'fresh.jsonl');
    const again = await irpo(...args.map((a) => (a === out ? fresh : a)), '--limit', '5');
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(fresh, 'utf8')).toBe(await readFile(out, 'utf8'));
  });
});
