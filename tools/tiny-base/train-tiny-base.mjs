#!/usr/bin/env node
// Trains the built-in tiny base model from scratch on the arith task's gold solutions (SFT) and
// writes snapshots with their greedy test accuracy, so a weak-but-capable snapshot can ship as
// the demo's starting point. Needs a build (npm ci does). Usage:
//   node tools/tiny-base/train-tiny-base.mjs --out /tmp/tiny-base [--steps 2000] [--every 250]
import { mkdir, writeFile } from 'node:fs/promises';
import { ModelSpecSchema, RunConfigSchema } from '../../packages/contracts/dist/index.js';
import { AdamW, initBackend } from '../../packages/core/dist/index.js';
import { ARITH_CHARSET, getTask } from '../../packages/data/dist/index.js';
import { CharTokenizer, createModel, saveModel } from '../../packages/model/dist/index.js';
import { DEMO_ARITH, DEMO_MODEL, evaluateModel } from '../../packages/recipes/dist/index.js';
import { LocalEngine } from '../../packages/sampler/dist/index.js';
import { trainSft } from '../../packages/trainer/dist/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const out = arg('out', '/tmp/tiny-base');
const steps = Number(arg('steps', 2000));
const every = Number(arg('every', 250));
const lr = Number(arg('lr', 3e-3));
const batchSize = Number(arg('batch', 32));
const seed = Number(arg('seed', 0));

const backend = await initBackend('wasm');
const task = getTask('arith', DEMO_ARITH);
const train = await task.load('train');
const test = await task.load('test', { limit: 200 });
const tokenizer = new CharTokenizer(ARITH_CHARSET);
const spec = ModelSpecSchema.parse({
  vocabSize: tokenizer.vocabSize,
  ...DEMO_MODEL,
  tieWordEmbeddings: true,
  bosTokenId: 1,
  eosTokenId: 2,
  padTokenId: 0,
});
const model = createModel(spec, { seed });
const examples = train.map((p) => ({ prompt: task.prompt(p), completion: task.goldCompletion(p) }));
const optimizer = new AdamW({ lr, weightDecay: 0.01 });
const training = {
  ...RunConfigSchema.parse({}).training,
  lr,
  schedule: 'cosine',
  warmupSteps: 50,
  batchSize,
  maxGradNorm: 1,
  checkpointEvery: 100,
};
await mkdir(out, { recursive: true });
const t0 = performance.now();
const snapshots = [];
await trainSft(model, tokenizer, examples, {
  training,
  epochs: Math.ceil((steps * batchSize) / examples.length),
  maxSteps: steps,
  seed,
  logFile: `${out}/sft-log.jsonl`,
  checkpointDir: `${out}/checkpoint`,
  optimizer,
  onStep: async (m, step) => {
    if (step % every !== 0 && step !== steps) return;
    const dir = `${out}/step-${step}`;
    await saveModel(dir, model, tokenizer, { dtype: 'BF16' });
    const r = await evaluateModel(new LocalEngine(model, tokenizer, { maxBatchSize: 100 }), task, test, {
      modelName: dir,
      split: 'test',
      maxNewTokens: 48,
      majK: 0,
      temperature: 0,
      seed: 1,
      greedyFile: `${dir}/eval-greedy.jsonl`,
      votesFile: `${dir}/eval-votes.jsonl`,
      out: `${dir}/eval.json`,
      batchSize: 100,
    });
    const s = { step, nll: m.nll, greedy: r.greedy.accuracy, minutes: (performance.now() - t0) / 60000 };
    snapshots.push(s);
    process.stdout.write(JSON.stringify(s) + '\n');
  },
});
await writeFile(`${out}/snapshots.json`, JSON.stringify({ backend: backend.name, spec, training, seed, snapshots }, null, 2));
