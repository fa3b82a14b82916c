import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonlAll, RunConfigSchema, SampleSchema, type RunConfigInput } from '@irpo/contracts';
import { createProgress, DEMO_ARITH, DEMO_BASE_DIR, runIterativeRpo } from '@irpo/recipes';
import { describe, expect, it } from 'vitest';
import { bin } from './irpo-bin.js';

/**
 * A run with engine.kind http and engine.launch: each sampling and eval stage starts
 * `irpo serve` on the model it needs (the built CLI: `nx test` builds it first) and stops it
 * after; the run must end where an in-process run with the same seed ends.
 */
const quiet = createProgress(process.stderr, true);
const serve = `${process.execPath} ${bin} serve {model} --port {port} --seed {seed} --backend wasm --log-level warn`;

const config = (engine: RunConfigInput['engine']) =>
  RunConfigSchema.parse({
    name: 'launch',
    seed: 5,
    model: DEMO_BASE_DIR,
    backend: 'wasm',
    task: { name: 'arith', trainLimit: 40, testLimit: 40, goldAsWinner: true, arith: DEMO_ARITH },
    iterations: 2,
    iteration: { n: 4, k: 2, temperature: 1, maxNewTokens: 40, epochs: 1 },
    training: { lr: 2e-5, batchSize: 8 },
    eval: { maxNewTokens: 40 },
    engine: { batchSize: 32, ...engine },
  });

const sampleRows = async (file: string) =>
  (await readJsonlAll(file, SampleSchema)).map((s) => `${s.problemId}#${s.index} ${s.correct} ${JSON.stringify(s.completion)}`);

const fixture = fileURLToPath(new URL('./fixtures/dying-server.mjs', import.meta.url));

describe('runIterativeRpo with engine.launch (irpo serve per stage)', () => {
  let root = '';

  it('writes iter-t/engine.log and samples and evaluates as the in-process engine does', { timeout: 900_000 }, async () => {
    if (!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url))))
      throw new Error('apps/cli/dist is missing: build first (NX_DAEMON=false npx nx run-many -t build)');
    root = await mkdtemp(join(tmpdir(), 'irpo-run-launch-'));
    const local = await runIterativeRpo(config({}), { out: join(root, 'local'), progress: quiet });
    const http = await runIterativeRpo(config({ kind: 'http', launch: serve }), { out: join(root, 'http'), progress: quiet });
    for (const t of [0, 1, 2]) expect(existsSync(join(root, 'http', `iter-${t}`, 'engine.log'))).toBe(true);
    expect(existsSync(join(root, 'local', 'iter-1', 'engine.log'))).toBe(false);
    expect(await readFile(join(root, 'http', 'iter-1', 'engine.log'), 'utf8')).toContain('serve');
    // The server draws sample j of a prompt from the seed the HTTP engine sends, as the local
    // engine does: the same samples, pairs and accuracies at every iteration.
    for (const t of [1, 2]) {
      const rows = await sampleRows(join(root, 'http', `iter-${t}`, 'samples.jsonl'));
      expect(rows).toHaveLength(160);
      expect(rows).toEqual(await sampleRows(join(root, 'local', `iter-${t}`, 'samples.jsonl')));
      const pairs = (dir: string) => readFile(join(root, dir, `iter-${t}`, 'pairs.jsonl'), 'utf8');
      expect(await pairs('http')).toEqual(await pairs('local'));
    }
    expect(http.evals).toHaveLength(3);
    expect(http.evals.map((e) => e.greedy)).toEqual(local.evals.map((e) => e.greedy));
  });

  it('a server killed mid-sampling is started once more and the samples end as without the kill', { timeout: 600_000 }, async () => {
    const uninterrupted = join(root, 'http', 'iter-1', 'samples.jsonl');
    if (!existsSync(uninterrupted)) throw new Error('runs after the first test of this file (it compares with its samples)');
    const marker = join(root, 'killed-once');
    const dying = `${process.execPath} ${fixture} ${marker} 2 {port} ${serve.replace('--port {port}', '--port INNER_PORT')}`;
    const out = join(root, 'dying');
    await runIterativeRpo({ ...config({ kind: 'http', launch: dying }), iterations: 1 }, { out, progress: quiet });
    expect(existsSync(marker)).toBe(true); // the first server did die
    const log = await readFile(join(out, 'iter-1', 'engine.log'), 'utf8');
    // one header line per launch: sampling, its relaunch after the kill, then M1's evaluation
    expect(log.split('\n').filter((l) => l.includes('dying-server.mjs')).length).toBe(3);
    expect(await sampleRows(join(out, 'iter-1', 'samples.jsonl'))).toEqual(await sampleRows(uninterrupted));
  });
});
