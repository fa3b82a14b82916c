/**
 * Decode throughput of the sampler's LocalEngine: tokens/s at batch 1, 8, 32 and 64, with the
 * KV cache and without it (full forward pass per step), for a tiny and a ~10M-parameter Llama.
 * One JSON line per measurement on stdout.
 *
 *   node --conditions=@irpo/source --import ./tools/test-support/ts-loader.mjs \
 *     tools/bench/sample-decode.ts [--new 32] [--prompt 16] [--batches 1,8,32,64] [--configs tiny,10m]
 *
 * Uses @irpo/model's createModel with random weights; until @irpo/model is merged it falls back
 * to the sampler's test fake (then the figures say nothing about the real model).
 */
import type { ModelSpec } from '@irpo/contracts';
import { initBackend, tf } from '@irpo/core';
import { LocalEngine, type CausalLM } from '@irpo/sampler';
import { idTokenizer } from './src/phases.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const maxNew = Number(arg('new', '32'));
const promptLen = Number(arg('prompt', '16'));
const batches = arg('batches', '1,8,32,64').split(',').map(Number);
const configs = arg('configs', 'tiny,10m').split(',');

const base = {
  architecture: 'LlamaForCausalLM',
  ropeTheta: 10000,
  ropeScaling: null,
  rmsNormEps: 1e-5,
  tieWordEmbeddings: false,
  attentionBias: false,
  bosTokenId: null,
  eosTokenId: null,
  padTokenId: 0,
};
const SPECS: Record<string, ModelSpec> = {
  // ~0.1M parameters: the demo's size
  tiny: {
    ...base,
    vocabSize: 64,
    hiddenSize: 64,
    intermediateSize: 172,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 4,
    maxPositions: 512,
  } as ModelSpec,
  // 8 layers × 0.79M + 2 × 8192 × 256 embeddings ≈ 10.5M parameters
  '10m': {
    ...base,
    vocabSize: 8192,
    hiddenSize: 256,
    intermediateSize: 688,
    numLayers: 8,
    numHeads: 8,
    numKvHeads: 4,
    maxPositions: 1024,
  } as ModelSpec,
};

async function makeModel(spec: ModelSpec): Promise<{ model: CausalLM; fake: boolean }> {
  const mod = (await import('@irpo/model' as string)) as { createModel?: (s: ModelSpec, o?: { seed?: number }) => CausalLM };
  if (mod.createModel) return { model: mod.createModel(spec, { seed: 0 }), fake: false };
  const { FakeLM } = await import('@irpo/sampler/testing');
  return { model: new FakeLM(1) as CausalLM, fake: true };
}

const backend = await initBackend();
for (const name of configs) {
  const spec = SPECS[name];
  if (!spec) throw new Error(`unknown config ${name}: use ${Object.keys(SPECS).join(', ')}`);
  const { model, fake } = await makeModel(spec);
  const tokenizer = idTokenizer(model.spec.vocabSize);
  const prompt = 'x'.repeat(promptLen);
  for (const useCache of [true, false]) {
    for (const batch of batches) {
      const engine = new LocalEngine(model, tokenizer, { maxBatchSize: batch, useCache });
      const req = { prompts: [prompt], n: batch, temperature: 1, maxNewTokens: maxNew, seed: 1 };
      await engine.generate({ ...req, maxNewTokens: 2 }); // warm-up: kernels, allocations
      const before = engine.stats.completionTokens;
      const t0 = performance.now();
      await engine.generate(req);
      const seconds = (performance.now() - t0) / 1000;
      const tokens = engine.stats.completionTokens - before;
      const line = {
        bench: 'sample-decode',
        config: name,
        fakeModel: fake,
        backend: backend.name,
        batch,
        cache: useCache,
        promptTokens: promptLen,
        newTokens: maxNew,
        tokens,
        seconds: +seconds.toFixed(3),
        tokensPerS: +(tokens / seconds).toFixed(1),
        numTensors: tf.memory().numTensors,
      };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
  }
  model.dispose();
}
