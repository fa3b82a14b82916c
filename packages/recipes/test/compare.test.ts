import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readJsonFile,
  readJsonlAll,
  RefLogpsSchema,
  RunConfigSchema,
  RunStateSchema,
  SampleSchema,
  SftExampleSchema,
  TrainStepMetricsSchema,
  type RefLogps,
} from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { runCompare, type CompareResult } from '../src/compare.js';
import { DEMO_ARITH, DEMO_BASE_DIR } from '../src/demo.js';
import { createProgress, type Progress } from '../src/progress.js';
import { taskOf } from '../src/task-of.js';

/**
 * The comparison of the paper's Table 1 on a handful of problems, from the demo's shipped base
 * model (it solves about half of them, so STaR has correct samples to learn from).
 */
const config = RunConfigSchema.parse({
  name: 'cmp',
  seed: 4,
  model: DEMO_BASE_DIR,
  backend: 'wasm',
  task: { name: 'arith', trainLimit: 8, testLimit: 6, goldAsWinner: true, arith: DEMO_ARITH },
  iterations: 2,
  iteration: { n: 4, k: 2, temperature: 1, maxNewTokens: 40, epochs: 2 },
  training: { lr: 1e-3, batchSize: 2, checkpointEvery: 1 },
  eval: { maxNewTokens: 40 },
  engine: { batchSize: 32 },
});

/** A silent progress that records the label of every stage that does work, and can crash one. */
function recorder(crashAt?: string): { progress: Progress; started: string[] } {
  const quiet = createProgress(process.stderr, true);
  const started: string[] = [];
  let label = '';
  const progress: Progress = {
    start: (l, total, unit) => {
      label = l;
      if (started.at(-1) !== l) started.push(l);
      quiet.start(l, total, unit);
    },
    update: (done, extra) => {
      if (label === crashAt && done >= 2) throw new Error(`crash in ${label}`);
      quiet.update(done, extra);
    },
    done: (s) => quiet.done(s),
    info: (l) => quiet.info(l),
  };
  return { progress, started };
}

describe('runCompare (Table 1: zero-shot, SFT on gold, STaR, iterative DPO, Iterative RPO, SFT on chosen)', () => {
  let root = '';
  let result: CompareResult;
  const dir = (method: string, t: number, file: string) => join(root, method, `iter-${t}`, file);

  it('a crash inside a method loses only its stage in progress; the rerun does not redo finished methods', async () => {
    root = await mkdtemp(join(tmpdir(), 'irpo-compare-'));
    const methods = ['zero-shot', 'sft-gold', 'star', 'dpo', 'irpo', 'sft-chosen'] as const;
    // Order of work: irpo, sft-gold, star, dpo, sft-chosen. Crash after DPO's 2nd step of iteration 2.
    const first = recorder('dpo · iter 2/2 · training');
    await expect(runCompare(config, { out: root, methods, progress: first.progress })).rejects.toThrow('crash in dpo');
    expect(first.started.at(-1)).toBe('dpo · iter 2/2 · training');
    expect(existsSync(dir('dpo', 2, 'checkpoint'))).toBe(true);
    expect((await readJsonFile(join(root, 'dpo', 'state.json'), RunStateSchema)).iterations['2']!.done).toEqual([
      'samples',
      'pairs',
      'ref-logps',
    ]);

    const second = recorder();
    result = await runCompare(config, { out: root, methods, progress: second.progress });
    expect(second.started).toEqual([
      'dpo · iter 2/2 · training',
      'dpo · iter 2 · eval · greedy',
      'sft-chosen · iter 1/1 · training',
      'sft-chosen · iter 1 · eval · greedy',
    ]);
    for (const m of ['irpo', 'sft-gold', 'star', 'dpo', 'sft-chosen'])
      expect((await readJsonFile(join(root, m, 'state.json'), RunStateSchema)).complete).toBe(true);
    expect(existsSync(dir('dpo', 2, 'checkpoint'))).toBe(false);
  }, 600_000);

  it('gives one row per method × iteration, from the same M0 and the same iteration-1 samples', async () => {
    expect(result.rows.map((r) => [r.method, r.iteration])).toEqual([
      ['zero-shot', 0],
      ['sft-gold', 1],
      ['sft-gold', 2],
      ['star', 1],
      ['star', 2],
      ['dpo', 1],
      ['dpo', 2],
      ['irpo', 1],
      ['irpo', 2],
      ['sft-chosen', 1],
    ]);
    for (const r of result.rows) expect(r.greedy?.total).toBe(6);
    const m0Eval = await readFile(dir('irpo', 0, 'eval.json'), 'utf8');
    for (const m of ['sft-gold', 'star', 'dpo', 'sft-chosen']) expect(await readFile(dir(m, 0, 'eval.json'), 'utf8')).toBe(m0Eval);
    const samples1 = await readFile(dir('irpo', 1, 'samples.jsonl'), 'utf8');
    for (const m of ['star', 'dpo', 'sft-chosen']) expect(await readFile(dir(m, 1, 'samples.jsonl'), 'utf8')).toBe(samples1);
    // Iteration 2 samples from each method's own M1.
    const samples2 = await readFile(dir('irpo', 2, 'samples.jsonl'), 'utf8');
    for (const m of ['star', 'dpo']) expect(await readFile(dir(m, 2, 'samples.jsonl'), 'utf8')).not.toBe(samples2);
    expect(existsSync(dir('sft-gold', 1, 'samples.jsonl'))).toBe(false);
  });

  it('trains each method with its own objective', async () => {
    // SFT on gold: the gold solution of each of the 8 training problems, an SFT log, no pairs.
    const task = taskOf(config);
    const train = await task.load('train', { limit: 8 });
    for (const t of [1, 2]) {
      const gold = await readJsonlAll(dir('sft-gold', t, 'sft-examples.jsonl'), SftExampleSchema);
      expect(gold.map((e) => [e.problemId, e.completion])).toEqual(train.map((p) => [p.id, task.goldCompletion(p)]));
      expect(existsSync(dir('sft-gold', t, 'sft-log.jsonl'))).toBe(true);
      expect(existsSync(dir('sft-gold', t, 'train-log.jsonl'))).toBe(false);
    }
    // STaR: the distinct correct samples of its own iteration that ended (a cut-off one never wins), nothing else.
    for (const t of [1, 2]) {
      const samples = await readJsonlAll(dir('star', t, 'samples.jsonl'), SampleSchema);
      const correct = new Set(samples.filter((s) => s.correct && s.finishReason !== 'length').map((s) => `${s.problemId} ${s.completion}`));
      const examples = await readJsonlAll(dir('star', t, 'sft-examples.jsonl'), SftExampleSchema);
      expect(examples.length).toBeGreaterThan(0);
      expect(new Set(examples.map((e) => `${e.problemId} ${e.completion}`))).toEqual(correct);
      expect(existsSync(dir('star', t, 'sft-log.jsonl'))).toBe(true);
    }
    // Iterative DPO: loss = the DPO term alone (alpha 0); Iterative RPO: loss = DPO + NLL (alpha 1).
    const dpoRun = JSON.parse(await readFile(join(root, 'dpo', 'run.json'), 'utf8')) as {
      config: { training: { loss: string; alpha: number } };
    };
    expect(dpoRun.config.training).toMatchObject({ loss: 'dpo', alpha: 0 });
    // The objectives from their definitions, at the first step of each iteration, where the policy
    // is still the reference model M(t-1): every pair's DPO term is -log σ(β·0) = ln 2, and the
    // NLL term is the mean over the step's pairs of -log π(chosen) / |chosen|, which the reference
    // log-probs of ref-logps.jsonl give. The step's pairs (at most training.batchSize = 2) are the
    // ones whose reference log-probs average to the step's logged policy log-probs.
    for (const t of [1, 2]) {
      const ref = await readJsonlAll(dir('irpo', t, 'ref-logps.jsonl'), RefLogpsSchema);
      for (const method of ['dpo', 'irpo']) {
        const [first] = await readJsonlAll(dir(method, t, 'train-log.jsonl'), TrainStepMetricsSchema);
        const refs = method === 'irpo' ? ref : await readJsonlAll(dir(method, t, 'ref-logps.jsonl'), RefLogpsSchema);
        const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
        const batches = refs.flatMap((a, i) => [[a], ...refs.slice(i + 1).map((b) => [a, b])]);
        const off = (b: RefLogps[]) =>
          Math.abs(mean(b.map((r) => r.chosen)) - first!['logps/chosen']) +
          Math.abs(mean(b.map((r) => r.rejected)) - first!['logps/rejected']);
        const batch = batches.reduce((best, b) => (off(b) < off(best) ? b : best));
        expect(off(batch), `${method} iter ${t}: no pairs match step 1's log-probs`).toBeLessThan(1e-2);
        const nll = mean(batch.map((r) => -r.chosen / r.chosenTokens));
        expect(first!.dpo, `${method} iter ${t}`).toBeCloseTo(Math.LN2, 4);
        expect(first!['rewards/margins']).toBeCloseTo(0, 4);
        expect(first!.nll).toBeCloseTo(nll, 3);
        expect(first!.loss, `${method} iter ${t}`).toBeCloseTo(method === 'dpo' ? Math.LN2 : Math.LN2 + nll, 3);
      }
    }
    // Later steps: the logged loss is the method's combination of its logged terms.
    for (const t of [1, 2]) {
      for (const s of await readJsonlAll(dir('dpo', t, 'train-log.jsonl'), TrainStepMetricsSchema)) expect(s.loss).toBeCloseTo(s.dpo, 4);
      for (const s of await readJsonlAll(dir('irpo', t, 'train-log.jsonl'), TrainStepMetricsSchema)) {
        expect(s.nll).toBeGreaterThan(0);
        expect(s.loss).toBeCloseTo(s.dpo + s.nll, 3);
      }
    }
    // The same iteration-1 pairs for both preference methods; SFT on chosen trains on their winners.
    expect(await readFile(dir('dpo', 1, 'pairs.jsonl'), 'utf8')).toBe(await readFile(dir('irpo', 1, 'pairs.jsonl'), 'utf8'));
    expect(await readFile(dir('sft-chosen', 1, 'pairs.jsonl'), 'utf8')).toBe(await readFile(dir('irpo', 1, 'pairs.jsonl'), 'utf8'));
    expect(existsSync(dir('sft-chosen', 1, 'sft-log.jsonl'))).toBe(true);
    // Log-prob drift only where there are pairs.
    expect(result.rows.filter((r) => r.drift).map((r) => r.method)).toEqual(['dpo', 'dpo', 'irpo', 'irpo']);
  });

  it('writes compare.md and a self-contained compare.html with the table', async () => {
    const md = await readFile(join(root, 'compare.md'), 'utf8');
    expect(md).toContain('| Method | Iteration | Trained on | Steps | Greedy [95% CI] | log π(chosen) | log π(rejected) |');
    expect(md).toMatch(/\n\| Zero-shot \(M0\) \| 0 \| – \| – \| \d+\.\d% \[/);
    expect(md).toMatch(/\n\| SFT on gold CoTs \| 2 \| 8 examples \| \d+ \|/);
    expect(md).toMatch(/\n\| Iterative DPO \(α 0\) \| 1 \| \d+ pairs \|/);
    const html = await readFile(join(root, 'compare.html'), 'utf8');
    expect(html).toContain('<table>');
    expect(html).toContain('<td>STaR</td><td>2</td>');
    expect(html).toContain('STaR’s M(t-1)');
    expect(html).not.toMatch(/<(script|link|img)\b/);
    expect(result.files.map((f) => f.slice(root.length + 1))).toEqual(['compare.md', 'compare.html', 'compare.json']);
  });
});
