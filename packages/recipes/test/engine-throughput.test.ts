import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, readJsonlAll, RunStateSchema, SampleSchema, readJsonFile, type RunConfigInput } from '@irpo/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { createProgress } from '../src/progress.js';
import { taskOf } from '../src/task-of.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

/**
 * irpo against a vLLM-like server (tools/test-support/vllm-stand-in.mjs: 150 ms a request however
 * many are in flight, counting them): the sample and eval stages must keep `engine.concurrency`
 * requests going, static endpoints must be reloaded to M(t) (also by a second process that
 * resumes the run), and a server that hangs must stop the run. No timing is asserted: the stand-in
 * counts requests in flight, and that count is the assertion.
 */
const standInUrl = new URL('../../../tools/test-support/vllm-stand-in.mjs', import.meta.url);
const standInScript = fileURLToPath(standInUrl);

/** What the tests use of the stand-in (plain JavaScript, loaded at run time). */
interface StandIn {
  url: string;
  stats(): {
    /** Most requests in flight at once, per kind (greedy: temperature 0). */
    peak: { greedy: number; sampled: number };
    /** Requests served per model folder and kind. */
    servedBy: Record<string, { greedy?: number; sampled?: number }>;
  };
  close(): Promise<void>;
}
const { startStandIn, loadModelOn } = (await import(standInUrl.href)) as {
  startStandIn(o: { model: string; latencyMs?: number; answers?: Record<string, string> }): Promise<StandIn>;
  loadModelOn(apiRoot: string, model: string): Promise<void>;
};
const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const runChild = fileURLToPath(new URL('./run-child.ts', import.meta.url));
const node = process.execPath;
const quiet = createProgress(process.stderr, true);
const reload = `${node} ${standInScript} load {endpoint} {model}`;

let root = '';
let m0 = '';
const answers: Record<string, string> = {};
const servers: StandIn[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'irpo-throughput-'));
  m0 = await makeTinyModel(join(root, 'm0'));
  // The stand-in answers sample j of a prompt right when (seed + j) is even: it needs the gold answers.
  const task = taskOf(config({}));
  for (const split of ['train', 'test'] as const)
    for (const p of await task.load(split, { limit: 64 })) answers[task.prompt(p)] = String(p.answer);
});
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const config = (over: RunConfigInput) =>
  tinyConfig(m0, {
    task: { name: 'arith', trainLimit: 64, testLimit: 32 },
    iteration: { n: 30, k: 1, temperature: 1, maxNewTokens: 16, epochs: 1 },
    training: { lr: 1e-3, batchSize: 16 },
    ...over,
  });

describe('HTTP engines at full throughput', () => {
  it(
    'keeps ≥ 13 of 16 requests in flight while sampling and evaluating, and reloads static endpoints to M(t)',
    { timeout: 300_000 },
    async () => {
      const server = await startStandIn({ model: m0, latencyMs: 150, answers });
      servers.push(server);
      const out = join(root, 'static');
      const engine = { kind: 'http' as const, endpoints: [server.url], reload, concurrency: 16 };
      await runIterativeRpo(config({ iterations: 1, engine }), { out, progress: quiet });

      const stats = server.stats();
      // 64 prompts × 30 samples, one request per prompt: 16 in flight at once (3 tolerated for the pool's refill)
      expect(stats.peak.sampled).toBeGreaterThanOrEqual(13);
      expect(stats.peak.greedy).toBeGreaterThanOrEqual(13); // eval: 32 problems, greedy
      expect(stats.peak.sampled).toBeLessThanOrEqual(16);
      expect(stats.peak.greedy).toBeLessThanOrEqual(16);
      // M0 sampled iteration 1 and was evaluated; M1 was put on the server by engine.reload and evaluated
      const m1 = resolve(out, 'iter-1', 'model');
      expect(stats.servedBy[resolve(m0)]).toEqual({ sampled: 64, greedy: 32 });
      expect(stats.servedBy[m1]).toEqual({ greedy: 32 });
      expect((await readJsonFile(join(out, 'state.json'), RunStateSchema)).served).toBe(join(out, 'iter-1', 'model'));
      expect(await readFile(join(out, 'iter-1', 'engine.log'), 'utf8')).toMatch(
        /=== irpo .*vllm-stand-in\.mjs load .*iter-1\/model\n.*now loading/,
      );
      // samples are written in problem order, 30 per problem, half of them right as the stand-in answers
      const samples = await readJsonlAll(join(out, 'iter-1', 'samples.jsonl'), SampleSchema);
      expect(samples).toHaveLength(64 * 30);
      const ids = [...new Set(samples.map((s) => s.problemId))];
      expect(samples.map((s) => `${s.problemId}#${s.index}`)).toEqual(
        ids.flatMap((id) => Array.from({ length: 30 }, (_, j) => `${id}#${j}`)),
      );
      expect(samples.filter((s) => s.correct)).toHaveLength(64 * 15);

      // The server restarts on M0 (as after a crash); a second process raises iterations to 2 and
      // resumes: it must put M1 back before sampling iteration 2 from it.
      await loadModelOn(server.url, m0);
      const configFile = join(root, 'static-2.json');
      await writeFile(configFile, JSON.stringify(config({ iterations: 2, engine })));
      const child = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
        const p = spawn(node, ['--conditions=@irpo/source', '--import', loader, runChild, configFile, out], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('error', fail);
        p.on('exit', (code) => done({ code, stderr }));
      });
      expect(child.code, child.stderr).toBe(0);
      const after = server.stats();
      expect(after.servedBy[m1]).toEqual({ greedy: 32, sampled: 64 }); // iteration 2 sampled from M1
      expect(after.servedBy[resolve(out, 'iter-2', 'model')]).toEqual({ greedy: 32 });
      expect(await readFile(join(out, 'iter-2', 'engine.log'), 'utf8')).toMatch(/load .*iter-1\/model[\s\S]*load .*iter-2\/model/);
      const runJson = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { changes: { field: string; to: unknown }[] };
      expect(runJson.changes).toEqual([expect.objectContaining({ field: 'iterations', to: 2 })]);
    },
  );

  it('refuses static endpoints without engine.reload before sampling anything', async () => {
    const out = join(root, 'no-reload');
    const err = await runIterativeRpo(config({ iterations: 2, engine: { kind: 'http', endpoints: ['http://127.0.0.1:9/v1'] } }), {
      out,
      progress: quiet,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).field).toBe('engine.reload');
    expect((err as Error).message).toMatch(/iteration 1 evaluates M1.*examples\/vllm-reload\.sh/);
    expect(existsSync(join(out, 'run.json'))).toBe(false);
    expect(existsSync(join(out, 'iter-1'))).toBe(false);
  });

  it(
    'a launched server that hangs is restarted once, then the run stops with its log, leaving no process',
    { timeout: 120_000 },
    async () => {
      const out = join(root, 'hang');
      const launch = `${node} ${standInScript} serve --port {port} --model {model} --hang`;
      const err = await runIterativeRpo(config({ iterations: 1, engine: { kind: 'http', launch, concurrency: 4, requestTimeoutS: 1 } }), {
        out,
        progress: quiet,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/engine server is hung \(requests time out\) again after a restart.*engine\.requestTimeoutS/s);
      expect((err as Error).message).toMatch(/last lines of .*engine\.log ---\nstand-in listening on/);
      const log = await readFile(join(out, 'iter-0', 'engine.log'), 'utf8');
      expect(log.match(/=== irpo /g)).toHaveLength(2); // started, restarted once
      // no stand-in of this run is left: no process has the run's folder on its command line
      const left = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((pid) => {
          try {
            return (
              readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--hang') && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(m0)
            );
          } catch {
            return false;
          }
        });
      expect(left).toEqual([]);
    },
  );
});
