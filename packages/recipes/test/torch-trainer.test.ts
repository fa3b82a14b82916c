import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, TrainLogRecordSchema, writeJsonlAtomic, type PreferencePair } from '@irpo/contracts';
import { dpoNll, tf } from '@irpo/core';
import { loadModel, padIdOf, PLAIN_PROMPT, readSafetensors } from '@irpo/model';
import { batchLogProbs, encodeSequence, packBatch, runTrainingLoop, type EncodedSequence } from '@irpo/trainer';
import { describe, expect, it } from 'vitest';
import { DEMO_ARITH, DEMO_BASE_DIR } from '../src/demo.js';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { trainerPairRow } from '../src/launch/trainer-pairs.js';
import { makeOptimizer } from '../src/optimizer.js';
import { createProgress } from '../src/progress.js';
import { makeTinyModel } from './tiny-run.js';

/**
 * tools/torch-trainer/irpo_torch_trainer.py, a PyTorch DPO+NLL trainer for the tokens pairs
 * format, against irpo's own trainer: the same maths in another framework (float64 there, so
 * the differences are irpo's float32 rounding), then launched by a run.
 */
const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../../tools/torch-trainer/irpo_torch_trainer.py', import.meta.url));
const probe = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const why = probe.error
  ? `${python} not found`
  : probe.status !== 0
    ? `${python} cannot import torch and numpy (apt install python3-torch)`
    : '';
if (why) console.warn(`torch-trainer tests skipped: ${why}`);
const quiet = createProgress(process.stderr, true);

/** Eight pairs a character-level arith model can encode: right and wrong sums, one wrong answer cut off. */
function arithPairs(): PreferencePair[] {
  const sums: [number, number][] = [
    [12, 7],
    [3, 40],
    [25, 25],
    [9, 9],
    [31, 2],
    [14, 60],
    [8, 70],
    [5, 16],
  ];
  return sums.map(([a, b], i) => ({
    v: 1,
    id: `p${i}#0`,
    problemId: `p${i}`,
    prompt: `${a}+${b}=`,
    chosen: `${a + b}`,
    rejected: `${a + b + 1 + (i % 3)}`,
    chosenSource: 'sample',
    chosenEnded: true,
    rejectedEnded: i !== 5,
  }));
}

describe.skipIf(why !== '')('the PyTorch trainer (tools/torch-trainer)', () => {
  it(
    'agrees with irpo: first-step loss to 1e-6, every gradient to 1e-5 of its largest, the loss after 4 steps to 1e-4',
    { timeout: 300_000 },
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'irpo-torch-'));
      const m0 = await makeTinyModel(join(root, 'm0'), 4);
      const { model, tokenizer } = await loadModel(m0);
      const pairs = arithPairs();
      const pairsFile = join(root, 'pairs.jsonl');
      await writeJsonlAtomic(
        pairsFile,
        pairs.map((p) => trainerPairRow(p, 'tokens', tokenizer, PLAIN_PROMPT)),
      );
      const config = RunConfigSchema.parse({
        model: m0,
        iteration: { epochs: 2 },
        training: { lr: 1e-2, batchSize: 4, beta: 0.1, alpha: 1, maxGradNorm: 1, weightDecay: 0.01 },
      });
      const configFile = join(root, 'run.json');
      await writeFile(configFile, JSON.stringify({ config, recipe: 'iterative-rpo/dpo-nll' }));
      const out = join(root, 'out');
      const dump = join(root, 'dump');
      const r = spawnSync(
        python,
        [
          script,
          '--model',
          m0,
          '--pairs',
          pairsFile,
          '--out',
          out,
          '--config',
          configFile,
          '--dtype',
          'float64',
          '--dump-first-step',
          dump,
        ],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).toBe(0);

      // irpo: the same pairs in file order, 4 per step, two epochs; reference = the starting weights
      const seqs = pairs.map((p) => ({
        chosen: encodeSequence(tokenizer, p.prompt, p.chosen, p.chosenEnded, PLAIN_PROMPT),
        rejected: encodeSequence(tokenizer, p.prompt, p.rejected, p.rejectedEnded, PLAIN_PROMPT),
      }));
      const pad = padIdOf(tokenizer);
      const logps = (items: number[]) => {
        const rows: EncodedSequence[] = [...items.map((i) => seqs[i]!.chosen), ...items.map((i) => seqs[i]!.rejected)];
        const b = packBatch(rows, pad);
        return { lp: batchLogProbs(model, b), lengths: b.responseLengths.slice(0, items.length) };
      };
      const ref = new Map<number, [number, number]>();
      for (const items of [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ]) {
        const v = tf.tidy(() => logps(items).lp).dataSync();
        items.forEach((i, j) => ref.set(i, [v[j]!, v[items.length + j]!]));
      }
      const lossOf = (items: number[]) => {
        const { lp, lengths } = logps(items);
        const [policyChosen, policyRejected] = tf.split(lp, 2) as [tf.Tensor1D, tf.Tensor1D];
        const out = dpoNll(
          {
            policyChosen,
            policyRejected,
            refChosen: tf.tensor1d(items.map((i) => ref.get(i)![0])),
            refRejected: tf.tensor1d(items.map((i) => ref.get(i)![1])),
          },
          tf.tensor1d(lengths),
          { beta: 0.1, alpha: 1 },
        );
        tf.dispose(Object.values(out.metrics));
        return tf.mean(out.losses) as tf.Scalar;
      };

      const first = JSON.parse(await readFile(join(dump, 'first-step.json'), 'utf8')) as { loss: number };
      const torchGrads = await readSafetensors(join(dump, 'grads.safetensors'));
      const { value, grads } = tf.variableGrads(() => lossOf([0, 1, 2, 3]), [...model.variables.values()]);
      expect(Math.abs(value.dataSync()[0]! - first.loss)).toBeLessThan(1e-6);
      expect(first.loss).toBeGreaterThan(Math.log(2)); // DPO is log 2 at the reference; the NLL adds to it
      const byVar = new Map([...model.variables].map(([name, v]) => [v.name, name]));
      let compared = 0;
      for (const [varName, g] of Object.entries(grads)) {
        const name = byVar.get(varName)!;
        const ours = g.dataSync();
        const theirs = torchGrads.get(name)!.data;
        let maxDiff = 0;
        let maxG = 0;
        for (let i = 0; i < ours.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
          maxG = Math.max(maxG, Math.abs(theirs[i]!));
        }
        expect(maxDiff / maxG, name).toBeLessThan(1e-5);
        compared++;
      }
      expect(compared).toBe(torchGrads.size);
      tf.dispose([value, ...Object.values(grads)]);

      // four steps of irpo's own loop (clip, AdamW, the log) in the same order
      const logFile = join(root, 'irpo-log.jsonl');
      const optimizer = makeOptimizer(config.training);
      await runTrainingLoop({
        variables: model.variables,
        optimizer,
        steps: [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[0, 1, 2, 3]], [[4, 5, 6, 7]]],
        microStep: (items) => ({ loss: lossOf(items), tokens: 0, metrics: () => ({}) }),
        lr: () => config.training.lr,
        maxGradNorm: config.training.maxGradNorm,
        checkpointDir: join(root, 'checkpoint'),
        checkpointEvery: 100,
        logFile,
        logSchema: TrainLogRecordSchema,
        record: (step, _m, extra) => ({ v: 1 as const, step, loss: extra.loss, grad_norm: extra.gradNorm }),
      });
      optimizer.dispose();
      const ours = readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { loss: number; grad_norm: number });
      const theirs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { loss: number; grad_norm: number });
      expect(theirs).toHaveLength(4);
      for (let s = 0; s < 4; s++) expect(Math.abs(ours[s]!.loss - theirs[s]!.loss), `step ${s + 1}`).toBeLessThan(1e-4);
      expect(theirs[3]!.loss).toBeLessThan(theirs[1]!.loss); // it learned something
      model.dispose();
    },
  );

  it('as training.launch, irpo run completes an iteration of the demo model', { timeout: 600_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-torch-run-'));
    const out = join(root, 'run');
    const config = RunConfigSchema.parse({
      name: 'torch',
      seed: 1,
      model: DEMO_BASE_DIR,
      backend: 'wasm',
      task: { name: 'arith', trainLimit: 12, testLimit: 8, goldAsWinner: true, arith: DEMO_ARITH },
      iterations: 1,
      iteration: { n: 4, k: 2, temperature: 1, maxNewTokens: 40, epochs: 1 },
      training: {
        lr: 2e-5,
        batchSize: 8,
        pairsFormat: 'tokens',
        launch: `${python} ${script} --model {model} --pairs {pairs} --out {out} --config {config} --iteration {iter}`,
      },
      eval: { maxNewTokens: 40 },
    });
    await runIterativeRpo(config, { out, progress: quiet });
    expect(existsSync(join(out, 'iter-1', 'eval.json'))).toBe(true);
    const log = readFileSync(join(out, 'iter-1', 'train-log.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(log.length).toBeGreaterThan(0);
    expect(JSON.parse(log[0]!)).toMatchObject({ v: 1, step: 1 });
    const m1 = await readSafetensors(join(out, 'iter-1', 'model', 'model.safetensors'));
    const m0 = await readSafetensors(join(DEMO_BASE_DIR, 'model.safetensors'));
    const w = 'model.layers.0.mlp.up_proj.weight';
    expect(Array.from(m1.get(w)!.data)).not.toEqual(Array.from(m0.get(w)!.data)); // trained
    expect(existsSync(join(out, 'iter-1', 'model', 'tokenizer.json'))).toBe(true); // copied from M0
  });
});
