import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@irpo/core';
import { loadCheckpoint, padIdOf } from '@irpo/model';
import { OnnxDecoderPool, OnnxLlama } from '@irpo/onnx';
import { LocalEngine } from '@irpo/sampler';
import { FakeCharTokenizer } from '@irpo/sampler/testing';
import { packBatch, scoreSequences } from '@irpo/trainer';
import { chooseRuntime } from '../src/inference-runtime.js';
import { ModelSlot } from '../src/model-slot.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'model', 'test', 'fixtures');
const tok = new FakeCharTokenizer();
// Decoder threads run the onnx package's TypeScript sources here: they need the loader child processes use.
const execArgv = ['--conditions=@irpo/source', '--import', new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href];

beforeAll(async () => {
  await initBackend('cpu');
});

describe.each(['llama-gqa', 'qwen2-bias', 'llama-tied'])('the local engine on ONNX Runtime vs TensorFlow.js (%s)', (name) => {
  it('gives the same greedy and seeded sampled tokens, and the same reference log-probs', async () => {
    const { model } = await loadCheckpoint(join(fixtures, name));
    const onnx = await OnnxLlama.fromModel(model, { threads: 1 });
    const prompts = ['Q: 1+2=?\nA:', 'ab', 'Q: 7=?\nA: 12+3', 'c'];
    const onTf = new LocalEngine(model, tok, { maxBatchSize: 3 });
    const onOnnx = new LocalEngine(onnx, tok, { maxBatchSize: 3 });
    for (const request of [
      { prompts, temperature: 0, maxNewTokens: 12 },
      { prompts, n: 3, temperature: 1, topP: 0.9, maxNewTokens: 12, seed: 7, stop: ['A'] },
    ]) {
      const a = await onTf.generate(request);
      const b = await onOnnx.generate(request);
      expect(b.map((cs) => cs.map((c) => [c.tokenIds, c.finishReason]))).toEqual(
        a.map((cs) => cs.map((c) => [c.tokenIds, c.finishReason])),
      );
    }
    // Reference scoring: summed response log-probs of packed sequences.
    const sequences = [
      { promptIds: [3, 9, 12], responseIds: [5, 7, 1] },
      { promptIds: [4], responseIds: [8, 8, 20, 30, 1] },
    ];
    const packed = packBatch(sequences, padIdOf(tok));
    const want = scoreSequences(model, sequences, padIdOf(tok));
    const got = await onnx.sequenceLogps(packed);
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-4));
    model.dispose();
    await onnx.dispose();
  });
});

describe('the local engine over decoder threads (OnnxDecoderPool)', () => {
  it('keeps two batches in flight and samples what one thread samples', async () => {
    const { model } = await loadCheckpoint(join(fixtures, 'qwen2-bias'));
    const onnx = await OnnxLlama.fromModel(model, { threads: 2 });
    const pool = await OnnxDecoderPool.create(onnx, { workers: 2, execArgv });
    try {
      const request = { prompts: ['Q: 1+2=?\nA:', 'ab', 'Q: 7=?\nA: 12+3', 'c'], n: 5, temperature: 1, maxNewTokens: 16, seed: 3 };
      const single = new LocalEngine(onnx, tok, { maxBatchSize: 4 });
      const pooled = new LocalEngine(pool, tok, { maxBatchSize: 4 });
      expect([single.batchParallelism, pooled.batchParallelism]).toEqual([1, 2]);
      const want = await single.generate(request);
      const got = await pooled.generate(request);
      expect(got.flat().map((c) => [c.tokenIds, c.finishReason])).toEqual(want.flat().map((c) => [c.tokenIds, c.finishReason]));
      expect(new Set(got.flat().map((c) => c.finishReason)).size).toBeGreaterThan(1);
    } finally {
      await pool.dispose();
      await onnx.dispose();
      model.dispose();
    }
  });

  it('ModelSlot starts the threads, stops them with the snapshot, and falls back to one thread saying why', async () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets', 'arith-base'); // the demo's M0
    const slot = new ModelSlot({ workers: 2, execArgv });
    await slot.ensure(dir);
    const pool = await slot.onnxDecoder();
    expect(pool).toBeInstanceOf(OnnxDecoderPool);
    expect(await slot.onnxDecoder()).toBe(pool); // kept while the weights are the same
    slot.releaseOnnx();
    await new Promise((r) => setTimeout(r, 50));
    await expect((pool as OnnxDecoderPool).prefill(Int32Array.of(1), Int32Array.of(1), 1, 1)).rejects.toThrow(/was stopped/);
    slot.dispose();
    // No TypeScript loader: the threads cannot load the sources.
    const bare = new ModelSlot({ workers: 2, execArgv: [] });
    await bare.ensure(dir);
    const said: string[] = [];
    const decoder = await bare.onnxDecoder((reason) => said.push(reason));
    expect(decoder).toBeInstanceOf(OnnxLlama);
    expect(said).toEqual([
      expect.stringMatching(/^decoding on one thread: the decoder threads did not start \(ONNX Runtime decoder thread \d failed/),
    ]);
    bare.dispose();
  });
});

describe('chooseRuntime', () => {
  it('takes ONNX Runtime on auto when it loads, and TensorFlow.js on tfjs, saying why', async () => {
    expect(await chooseRuntime('auto')).toEqual({ runtime: 'onnx', reason: expect.stringMatching(/^onnxruntime-node \d/) });
    expect(await chooseRuntime('tfjs')).toEqual({ runtime: 'tfjs', reason: 'engine.runtime: tfjs' });
  });

  it('falls back to TensorFlow.js on auto with IRPO_ONNX=0, and refuses onnx then', async () => {
    const before = process.env['IRPO_ONNX'];
    process.env['IRPO_ONNX'] = '0';
    try {
      expect(await chooseRuntime('auto')).toEqual({ runtime: 'tfjs', reason: expect.stringContaining('IRPO_ONNX=0') });
      await expect(chooseRuntime('onnx')).rejects.toThrow(/engine\.runtime.*IRPO_ONNX=0/);
    } finally {
      if (before === undefined) delete process.env['IRPO_ONNX'];
      else process.env['IRPO_ONNX'] = before;
    }
  });
});
