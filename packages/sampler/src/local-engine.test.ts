import { initBackend, tf } from '@irpo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeCharTokenizer, EOS, FakeLM } from './testing/fakes.js';
import { argmax } from './generation/argmax.js';
import { logSoftmaxAt } from './generation/softmax.js';
import { LocalEngine } from './local-engine.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const tok = new FakeCharTokenizer();

/** Reference: re-run the full forward pass on prompt + generated each step, take the argmax. */
function greedyByForward(model: FakeLM, prompt: string, maxNew: number): { ids: number[]; logprobs: number[] } {
  const ids = tok.encode(prompt);
  const out: number[] = [];
  const logprobs: number[] = [];
  for (let s = 0; s < maxNew; s++) {
    const seq = [...ids, ...out];
    const row = tf.tidy(() => {
      const logits = model.forward(tf.tensor2d([seq], [1, seq.length], 'int32'));
      return tf.squeeze(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, -1])).dataSync() as Float32Array;
    });
    const next = argmax(row);
    if (next === EOS) break;
    out.push(next);
    logprobs.push(logSoftmaxAt(row, next));
  }
  return { ids: out, logprobs };
}

describe('LocalEngine', () => {
  it('greedy equals step-by-step argmax over full forward passes, across a padded batch', async () => {
    const model = new FakeLM(1);
    const prompts = ['Q: 1+2=?\nA:', 'ab', 'Q: 7=?\nA: 12+3', 'c'];
    const engine = new LocalEngine(model, tok, { maxBatchSize: 3 });
    const result = await engine.generate({ prompts, temperature: 0, maxNewTokens: 12, logprobs: true });
    for (let i = 0; i < prompts.length; i++) {
      const ref = greedyByForward(model, prompts[i], 12);
      const [c] = result[i];
      expect(c.tokenIds).toEqual(ref.ids);
      expect(c.text).toBe(tok.decode(ref.ids, { skipSpecialTokens: true }));
      expect(c.tokens).toBe(ref.ids.length);
      expect(c.finishReason).toBe(ref.ids.length < 12 ? 'eos' : 'length');
      c.logprobs!.forEach((lp, k) => expect(lp).toBeCloseTo(ref.logprobs[k], 4));
    }
    // both ways of ending occur, so a row leaving the batch early is covered too
    expect(new Set(result.map(([c]) => c.finishReason))).toEqual(new Set(['eos', 'length']));
    // batch of 3 then 1 (maxBatchSize 3)
    expect(model.prefillCalls).toEqual([3, 1]);
    model.dispose();
  });

  it('finished sequences leave the batch', async () => {
    // With n samples at high temperature some rows hit EOS early; later decode steps run smaller.
    const model = new FakeLM(2);
    const engine = new LocalEngine(model, tok);
    const [cs] = await engine.generate({ prompts: ['ab'], n: 16, temperature: 1.5, maxNewTokens: 30, seed: 3 });
    const lengths = cs.map((c) => c.tokens);
    expect(Math.min(...lengths)).toBeLessThan(30);
    // each decode step's batch equals the number of rows still running at that step
    const decodes = model.decodeBatches;
    for (let s = 0; s < decodes.length; s++) {
      const running = cs.filter((c) => c.tokens + (c.finishReason === 'eos' ? 1 : 0) > s + 1).length;
      expect(decodes[s]).toBe(running);
    }
    expect(engine.stats.completionTokens).toBe(lengths.reduce((a, b) => a + b, 0));
    model.dispose();
  });

  it('same seed gives the same text regardless of batch composition; other seeds differ', async () => {
    const model = new FakeLM(3);
    const engine = new LocalEngine(model, tok, { maxBatchSize: 5 });
    const req = { n: 4, temperature: 1, topP: 0.95, maxNewTokens: 20, seed: 11 };
    const alone = await engine.generate({ ...req, prompts: ['Q: 5=?\nA:'] });
    const mixed = await engine.generate({ ...req, prompts: ['ab', 'Q: 5=?\nA:', 'Q: 123456=?\nA:'] });
    expect(mixed[1].map((c) => c.text)).toEqual(alone[0].map((c) => c.text));
    const other = await engine.generate({ ...req, seed: 12, prompts: ['Q: 5=?\nA:'] });
    expect(other[0].map((c) => c.text)).not.toEqual(alone[0].map((c) => c.text));
    // the four samples of one prompt differ from each other
    expect(new Set(alone[0].map((c) => c.text)).size).toBeGreaterThan(1);
    model.dispose();
  });

  it('prefills each prompt once for its n samples, with the same samples as separate prefills', async () => {
    const model = new FakeLM(10);
    const req = { prompts: ['ab', 'Q: 3=?\nA:'], n: 4, temperature: 1, maxNewTokens: 12, seed: 8 };
    const shared = await new LocalEngine(model, tok, { maxBatchSize: 6 }).generate(req);
    expect(model.prefillCalls).toEqual([2, 1]); // rows 0-5: both prompts once; rows 6-7: the second prompt
    const separate = await new LocalEngine(model, tok, { maxBatchSize: 6, sharePrefill: false }).generate(req);
    expect(model.prefillCalls.slice(2)).toEqual([6, 2]);
    expect(separate).toEqual(shared);
    model.dispose();
  });

  it('stops before a stop string and reports finish reason stop', async () => {
    const model = new FakeLM(4);
    const engine = new LocalEngine(model, tok);
    // find what greedy writes, then stop on a piece of it
    const [[free]] = await engine.generate({ prompts: ['ab'], temperature: 0, maxNewTokens: 10 });
    expect(free.text.length).toBeGreaterThan(3);
    const stop = free.text.slice(2, 4);
    const [[stopped]] = await engine.generate({ prompts: ['ab'], temperature: 0, maxNewTokens: 10, stop: [stop] });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
    model.dispose();
  });

  it('streams pieces that join to each completion and never show a stop string', async () => {
    const model = new FakeLM(4);
    const engine = new LocalEngine(model, tok);
    const [[free]] = await engine.generate({ prompts: ['ab'], temperature: 0, maxNewTokens: 10 });
    const stop = free.text.slice(3, 5);
    const pieces: { prompt: number; sample: number; text: string }[] = [];
    const req = { prompts: ['ab', 'cd'], n: 2, temperature: 0.8, maxNewTokens: 10, seed: 2, stop: [stop, 'zz'] };
    const out = await engine.generate({ ...req, onText: (p) => pieces.push(p) });
    expect(pieces.length).toBeGreaterThan(4); // arrives in several pieces, not one per completion
    for (let p = 0; p < 2; p++)
      for (let j = 0; j < 2; j++) {
        const mine = pieces.filter((x) => x.prompt === p && x.sample === j).map((x) => x.text);
        expect(mine.join('')).toBe(out[p][j].text);
        expect(mine.join('')).not.toContain(stop);
      }
    // streaming does not change the samples
    expect(await engine.generate(req)).toEqual(out);
    model.dispose();
  });

  it('does not leak tensors across generate calls', async () => {
    const model = new FakeLM(5);
    const engine = new LocalEngine(model, tok, { maxBatchSize: 4 });
    await engine.generate({ prompts: ['ab', 'cde'], n: 3, temperature: 1, maxNewTokens: 8, seed: 1 });
    const before = tf.memory().numTensors;
    await engine.generate({ prompts: ['ab', 'cde'], n: 3, temperature: 1, maxNewTokens: 8, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('without the cache gives the same samples as with it (full forward each step)', async () => {
    const model = new FakeLM(9);
    const req = {
      prompts: ['ab', 'Q: 42=?\nA:', 'c'],
      n: 3,
      temperature: 1,
      topK: 10,
      maxNewTokens: 15,
      seed: 4,
      logprobs: true,
      stop: ['\n\n'],
    };
    const cached = await new LocalEngine(model, tok, { maxBatchSize: 4 }).generate(req);
    const before = tf.memory().numTensors;
    const uncached = await new LocalEngine(model, tok, { maxBatchSize: 4, useCache: false }).generate(req);
    expect(tf.memory().numTensors).toBe(before);
    expect(uncached.map((cs) => cs.map((c) => [c.text, c.finishReason]))).toEqual(
      cached.map((cs) => cs.map((c) => [c.text, c.finishReason])),
    );
    uncached.flat().forEach((c, i) => c.logprobs!.forEach((lp, k) => expect(lp).toBeCloseTo(cached.flat()[i].logprobs![k], 4)));
    model.dispose();
  });

  it('rejects bad requests naming the field', async () => {
    const engine = new LocalEngine(new FakeLM(6), tok);
    await expect(engine.generate({ prompts: ['a'], maxNewTokens: 0 })).rejects.toThrow(/maxNewTokens/);
    await expect(engine.generate({ prompts: ['a'], maxNewTokens: 3, topP: 0 })).rejects.toThrow(/topP/);
    await expect(engine.generate({ prompts: ['abc'], maxNewTokens: 254 })).rejects.toThrow(
      /3 prompt tokens \+ maxNewTokens 254 exceed the model's 256 positions/,
    );
  });
});
