import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hfConfigFromSpec, specFromHfConfig } from './hf-config.js';
import { estimateMemory, parameterCount } from './model-size.js';
import { hasShared, NO_SHARED, sharedDir } from '../../test/fixture-paths.js';

const smolConfig = join(sharedDir, 'tokenizers', 'SmolLM2-135M-Instruct', 'config.json');

describe('HF config.json ↔ ModelSpec', () => {
  it.skipIf(!hasShared)(`SmolLM2-135M: 134,515,008 parameters with tied embeddings ${NO_SHARED}`, async () => {
    const spec = specFromHfConfig(JSON.parse(await readFile(smolConfig, 'utf8')), smolConfig);
    expect(spec).toMatchObject({ numLayers: 30, numHeads: 9, numKvHeads: 3, tieWordEmbeddings: true, ropeTheta: 100000 });
    // embed 49152·576 + 30·(576·576·2 + 576·192·2 + 3·576·1536 + 2·576) + 576
    expect(parameterCount(spec)).toBe(134_515_008);
  });

  it.skipIf(!hasShared)(`TinyLlama: untied head, 32/4 heads ${NO_SHARED}`, async () => {
    const file = join(sharedDir, 'tokenizers', 'TinyLlama-1.1B-Chat-v1.0', 'config.json');
    const spec = specFromHfConfig(JSON.parse(await readFile(file, 'utf8')), file);
    expect(spec.tieWordEmbeddings).toBe(false);
    // Published size of TinyLlama-1.1B: 1,100,048,384 parameters.
    expect(parameterCount(spec)).toBe(1_100_048_384);
  });

  it.skipIf(!hasShared)(`round-trips through hfConfigFromSpec ${NO_SHARED}`, async () => {
    const spec = specFromHfConfig(JSON.parse(await readFile(smolConfig, 'utf8')));
    expect(specFromHfConfig(hfConfigFromSpec(spec))).toEqual({ ...spec, headDim: 64 });
  });

  it('names an unsupported architecture', () => {
    const cfg = {
      architectures: ['GPTNeoXForCausalLM'],
      vocab_size: 8,
      hidden_size: 8,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
    };
    expect(() => specFromHfConfig(cfg, 'x/config.json')).toThrow(
      /x\/config.json: architectures: architecture GPTNeoXForCausalLM is not supported/,
    );
  });

  it('names a GPT-2 checkpoint as unsupported, not its first missing Llama field', () => {
    // GPT-2's config.json (transformers 4.x) uses its own field names: n_embd, n_layer, n_head.
    const gpt2 = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: 50257,
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      n_positions: 1024,
      activation_function: 'gelu_new',
    };
    expect(() => specFromHfConfig(gpt2, 'gpt2/config.json')).toThrow(
      'gpt2/config.json: architectures: architecture GPT2LMHeadModel is not supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM)',
    );
  });

  it('names a bad field and refuses a Mistral sliding window', () => {
    const base = {
      architectures: ['MistralForCausalLM'],
      vocab_size: 8,
      hidden_size: 8,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      max_position_embeddings: 32768,
    };
    expect(() => specFromHfConfig({ ...base, hidden_size: -1 }, 'c.json')).toThrow(/c.json: hidden_size: /);
    expect(() => specFromHfConfig({ ...base, sliding_window: 4096 }, 'c.json')).toThrow(/sliding_window/);
    expect(specFromHfConfig({ ...base, sliding_window: null }).architecture).toBe('MistralForCausalLM');
  });

  it.skipIf(!hasShared)(
    `estimates memory: weights + grads + 2 AdamW moments = 16 bytes per parameter, plus activations ${NO_SHARED}`,
    async () => {
      const spec = specFromHfConfig(JSON.parse(await readFile(smolConfig, 'utf8')));
      const m = estimateMemory(spec, 4, 256);
      expect(m.weightsBytes + m.gradsBytes + m.optimizerBytes).toBe(16 * 134_515_008);
      expect(m.activationsBytes).toBeGreaterThan(4 * 4 * 256 * 3 * 49152); // at least the logits
      expect(estimateMemory(spec, 8, 256).activationsBytes).toBe(2 * m.activationsBytes);
    },
  );
});
