import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@irpo/core';
import { ModelSpecSchema } from '@irpo/contracts';
import { createModel } from '../llama/create-model.js';
import { fixtureDir, IO_TEST_SPEC, parseSafetensorsHeader } from '../../test/fixture-paths.js';
import { loadCheckpoint } from './checkpoint.js';
import { loadLoraAdapter, saveLoraAdapter } from './lora-adapter.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

let root = '';
beforeAll(async () => {
  await initBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'irpo-lora-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const spec = ModelSpecSchema.parse(IO_TEST_SPEC);

describe('saveLoraAdapter / loadLoraAdapter', () => {
  it('writes PEFT’s adapter_config.json and tensor names; loading back gives identical tensors', async () => {
    const model = createModel(spec, { seed: 1, initStd: 0.3 });
    model.attachLora({ r: 4, alpha: 12, dropout: 0.05, targetModules: ['k_proj', 'gate_proj', 'o_proj'] }, { seed: 2 });
    let i = 0;
    for (const [name, v] of model.trainableVariables) {
      if (name.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 100 + i++)));
    }
    const dir = join(root, 'roundtrip');
    await saveLoraAdapter(dir, model, { baseModelPath: 'HuggingFaceTB/SmolLM2-135M-Instruct' });

    expect(JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'))).toEqual({
      alpha_pattern: {},
      base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M-Instruct',
      bias: 'none',
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      layers_to_transform: null,
      lora_alpha: 12,
      lora_dropout: 0.05,
      modules_to_save: null,
      peft_type: 'LORA',
      r: 4,
      rank_pattern: {},
      revision: null,
      target_modules: ['k_proj', 'o_proj', 'gate_proj'],
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: false,
    });
    const header = parseSafetensorsHeader(await readFile(join(dir, 'adapter_model.safetensors')));
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const want: string[] = [];
    for (const l of [0, 1]) {
      for (const m of ['self_attn.k_proj', 'self_attn.o_proj', 'mlp.gate_proj']) {
        for (const ab of ['A', 'B']) want.push(`base_model.model.model.layers.${l}.${m}.lora_${ab}.weight`);
      }
    }
    expect(names.sort()).toEqual(want.sort());
    // k_proj: 2 kv heads × d 4 = 8 out, 16 in; o_proj: 16 ← 16; gate_proj: 24 ← 16.
    expect(header['base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight']).toMatchObject({ dtype: 'F32', shape: [4, 16] });
    expect(header['base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight']).toMatchObject({ dtype: 'F32', shape: [8, 4] });
    expect(header['base_model.model.model.layers.1.mlp.gate_proj.lora_B.weight']).toMatchObject({ shape: [24, 4] });
    expect(header.__metadata__).toEqual({ format: 'pt' });

    const other = createModel(spec, { seed: 1, initStd: 0.3 });
    const loaded = await loadLoraAdapter(dir, other);
    expect(loaded).toEqual({
      config: { r: 4, alpha: 12, dropout: 0.05, targetModules: ['k_proj', 'o_proj', 'gate_proj'] },
      baseModelPath: 'HuggingFaceTB/SmolLM2-135M-Instruct',
    });
    expect([...other.trainableVariables.keys()].sort()).toEqual(want.sort());
    for (const [name, v] of model.trainableVariables) {
      const a = await v.data();
      const b = await other.trainableVariables.get(name)!.data();
      expect(b.length).toBe(a.length);
      for (let k = 0; k < a.length; k++) expect(b[k]).toBe(a[k]);
    }
    await expect(loadLoraAdapter(dir, other)).rejects.toThrow(/already has an adapter attached/);
    model.dispose();
    other.dispose();
  });

  it('saving needs an attached adapter', async () => {
    const model = createModel(spec, { seed: 1 });
    await expect(saveLoraAdapter(join(root, 'none'), model, { baseModelPath: null })).rejects.toThrow(/no LoRA adapter attached/);
    model.dispose();
  });
});

describe('loadLoraAdapter errors', () => {
  const src = fixtureDir('lora-gqa');

  /** A copy of the lora-gqa fixture with its config edited and/or its tensors replaced. */
  async function variant(
    name: string,
    editConfig: (c: Record<string, unknown>) => Record<string, unknown> = (c) => c,
    editTensors?: (t: ReturnType<typeof decodeSafetensors>) => void,
  ): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const cfg = JSON.parse(await readFile(join(src, 'adapter_config.json'), 'utf8'));
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(editConfig(cfg)));
    if (editTensors) {
      const file = join(src, 'adapter_model.safetensors');
      const tensors = decodeSafetensors(new Uint8Array(await readFile(file)), file);
      editTensors(tensors);
      await writeFile(join(dir, 'adapter_model.safetensors'), encodeSafetensors(tensors, 'F32'));
    } else {
      await copyFile(join(src, 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
    }
    return dir;
  }

  async function expectRefused(dir: string, onto: 'llama-gqa' | 'other', pattern: RegExp): Promise<void> {
    const model =
      onto === 'llama-gqa'
        ? (await loadCheckpoint(fixtureDir('llama-gqa'))).model
        : createModel(ModelSpecSchema.parse({ ...spec, hiddenSize: 24, numLayers: 2, vocabSize: 64 }), { seed: 1 });
    await expect(loadLoraAdapter(dir, model)).rejects.toThrow(pattern);
    // Nothing is attached after a refusal.
    expect(model.loraConfig).toBeUndefined();
    expect(model.trainableVariables).toBe(model.variables);
    model.dispose();
  }

  it('a base with another hidden size: names the weights file and the tensor', async () => {
    await expectRefused(
      src,
      'other',
      /lora-gqa\/adapter_model\.safetensors: base_model\.model\.model\.layers\.0\.mlp\.down_proj\.lora_A\.weight: shape \[4, 48\], expected \[4, 24\]: the base model has different layer sizes/,
    );
  });

  it('an unknown target module: names adapter_config.json and target_modules', async () => {
    const dir = await variant('unknown-target', (c) => ({ ...c, target_modules: ['q_proj', 'lm_head'] }));
    await expectRefused(dir, 'llama-gqa', /unknown-target\/adapter_config\.json: target_modules: unknown target module "lm_head"/);
    const regex = await variant('regex-target', (c) => ({ ...c, target_modules: '.*\\.(q|v)_proj' }));
    await expectRefused(
      regex,
      'llama-gqa',
      /regex-target\/adapter_config\.json: target_modules: the pattern ".*\\\\.\(q\|v\)_proj" is not supported/,
    );
  });

  it('unsupported PEFT features are refused by field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['use_dora', true, /use_dora: true: DoRA adapters are not supported/],
      ['rank_pattern', { q_proj: 8 }, /rank_pattern: \{"q_proj":8\}: per-module ranks are not supported/],
      ['bias', 'lora_only', /bias: "lora_only": trained biases are not supported/],
      ['fan_in_fan_out', true, /fan_in_fan_out: true: fan_in_fan_out .* is not supported/],
      ['use_rslora', true, /use_rslora: true: rank-stabilised LoRA/],
      ['modules_to_save', ['lm_head'], /modules_to_save: \["lm_head"\]: fully trained extra modules are not supported/],
      ['layers_to_transform', [0], /layers_to_transform: \[0\]: adapting a subset of layers is not supported/],
      ['peft_type', 'IA3', /peft_type: "IA3" is not a LoRA adapter/],
    ];
    for (const [field, value, pattern] of cases) {
      const dir = await variant(`feature-${field}`, (c) => ({ ...c, [field]: value }));
      await expectRefused(dir, 'llama-gqa', new RegExp(`feature-${field}/adapter_config\\.json: ` + pattern.source));
    }
  });

  it('a different r, a missing tensor, an extra layer and adapter_model.bin are named', async () => {
    const r8 = await variant('r8', (c) => ({ ...c, r: 8 }));
    await expectRefused(
      r8,
      'llama-gqa',
      /r8\/adapter_model\.safetensors: base_model\S+lora_A\.weight: shape \[4, \d+\], expected \[8, \d+\]: rank 4 differs from adapter_config\.json r = 8/,
    );
    const missing = await variant('missing', undefined, (t) => t.delete('base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight'));
    await expectRefused(
      missing,
      'llama-gqa',
      /missing\/adapter_model\.safetensors: base_model\.model\.model\.layers\.1\.self_attn\.o_proj\.lora_B\.weight: tensor is missing \(expected shape \[32, 4\]\)/,
    );
    const extra = await variant('extra', undefined, (t) =>
      t.set('base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight', { shape: [4, 32], data: new Float32Array(128) }),
    );
    await expectRefused(
      extra,
      'llama-gqa',
      /extra\/adapter_model\.safetensors: base_model\.model\.model\.layers\.2\.self_attn\.q_proj\.lora_A\.weight: unexpected tensor: .* on a base with 2 layers/,
    );
    const bin = join(root, 'bin');
    await mkdir(bin, { recursive: true });
    await copyFile(join(src, 'adapter_config.json'), join(bin, 'adapter_config.json'));
    await writeFile(join(bin, 'adapter_model.bin'), 'pickle');
    await expectRefused(bin, 'llama-gqa', /bin\/adapter_model\.safetensors: missing; adapter_model\.bin \(a pickle\) is not supported/);
    await expectRefused(join(root, 'nowhere'), 'llama-gqa', /nowhere\/adapter_config\.json: cannot read the file/);
  });
});
