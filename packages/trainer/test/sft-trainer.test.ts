import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonlAll, SftStepMetricsSchema } from '@irpo/contracts';
import { initBackend } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreSequences } from '../src/ref-logps.js';
import { trainSft } from '../src/sft-trainer.js';
import { encodeSequence } from '../src/tokenize.js';
import { bigramModel, charTokenizer, sgd, trainingConfig } from './fakes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('trainSft', () => {
  it('raises the likelihood of the completions and logs each step', async () => {
    const model = bigramModel(7);
    const dir = await mkdtemp(join(tmpdir(), 'irpo-sft-'));
    const examples = [
      { prompt: 'ab', completion: 'cd' },
      { prompt: 'xy', completion: 'z' },
    ];
    const seqs = examples.map((e) => encodeSequence(charTokenizer, e.prompt, e.completion));
    const before = scoreSequences(model, seqs, 0);
    await trainSft(model, charTokenizer, examples, {
      training: trainingConfig({ lr: 1, batchSize: 2, maxGradNorm: 0 }),
      epochs: 20,
      maxSteps: null,
      seed: 1,
      logFile: join(dir, 'sft-log.jsonl'),
      checkpointDir: join(dir, 'ckpt'),
      optimizer: sgd(),
    });
    const after = scoreSequences(model, seqs, 0);
    expect(after[0]!).toBeGreaterThan(before[0]! + 1);
    expect(after[1]!).toBeGreaterThan(before[1]! + 1);
    const log = await readJsonlAll(join(dir, 'sft-log.jsonl'), SftStepMetricsSchema);
    expect(log).toHaveLength(20);
    // token-mean NLL at step 1 of a near-uniform model is close to ln 30
    expect(log[0]!.nll).toBeGreaterThan(Math.log(30) - 0.5);
    expect(log[19]!.nll).toBeLessThan(log[0]!.nll / 2);
    model.dispose();
  });
});
