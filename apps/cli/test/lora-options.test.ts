import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelSpecSchema, UsageError } from '@irpo/contracts';
import { createModel, loadModel, readModelSpec, saveLoraAdapter, saveModel } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { loraSets } from '../src/commands/train.js';
import { loadRunConfig } from '../src/config-file.js';
import { loadModelFrom } from '../src/model-loading.js';
import { tinyModel } from './tiny-model.js';

describe('irpo train --lora-*', () => {
  it('become training.lora overrides the config validates', async () => {
    expect(loraSets({})).toEqual([]);
    const sets = loraSets({ loraR: 8, loraAlpha: 16, loraDropout: 0.05, loraTargets: 'q_proj, v_proj' });
    const config = await loadRunConfig(undefined, sets);
    expect(config.training.lora).toEqual({ r: 8, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] });
    expect((await loadRunConfig(undefined, loraSets({ loraR: 4 }))).training.lora?.alpha).toBe(32);
    expect((await loadRunConfig(undefined, [])).training.lora).toBeNull();
    await expect(loadRunConfig(undefined, loraSets({ loraR: 4, loraTargets: 'q_proj,lm_head' }))).rejects.toThrow(
      /training\.lora\.targetModules\[1\]/,
    );
    expect(() => loraSets({ loraAlpha: 16 })).toThrow(UsageError);
  });
});

describe('--adapter (eval, sample, serve)', () => {
  it('loads a PEFT adapter onto the base and merges it; an adapter of another model is refused naming the file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-adapter-'));
    const base = await tinyModel(join(root, 'base'), 1);
    const trained = await loadModel(base);
    trained.model.attachLora({ r: 2, alpha: 4, targetModules: ['q_proj', 'down_proj'] }, { seed: 9 });
    // A non-zero B, as after training, so the adapter changes the model.
    for (const [name, v] of trained.model.trainableVariables) if (name.includes('lora_B')) v.assign(v.add(0.25));
    const adapter = join(root, 'adapter');
    await saveLoraAdapter(adapter, trained.model, { baseModelPath: base });
    trained.model.mergeLora();

    const loaded = await loadModelFrom(base, adapter);
    expect(loaded.model.loraConfig).toBeUndefined(); // merged
    for (const [name, v] of trained.model.variables) {
      const got = Array.from(await loaded.model.variables.get(name)!.data());
      const want = Array.from(await v.data());
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), name).toBeLessThan(1e-6);
    }
    const plain = await loadModel(base);
    const q = 'model.layers.0.self_attn.q_proj.weight';
    expect(Array.from(await plain.model.variables.get(q)!.data())).not.toEqual(Array.from(await loaded.model.variables.get(q)!.data()));

    // A wider model does not fit the adapter: the loader refuses, naming the adapter file.
    const wide = join(root, 'wide');
    const spec = ModelSpecSchema.parse({ ...(await readModelSpec(base)), hiddenSize: 32, intermediateSize: 48 });
    const w = createModel(spec, { seed: 3 });
    await saveModel(wide, w, plain.tokenizer);
    w.dispose();
    await expect(loadModelFrom(wide, adapter)).rejects.toThrow(/adapter_model\.safetensors/);
    for (const m of [trained, loaded, plain]) m.model.dispose();
  });
});
