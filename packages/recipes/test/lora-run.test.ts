import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonFile, RunStateSchema } from '@irpo/contracts';
import { loadLoraAdapter, loadModel, readSafetensors, type LoadedModel } from '@irpo/model';
import { LocalEngine } from '@irpo/sampler';
import { describe, expect, it } from 'vitest';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { hashWeights } from '../src/model-slot.js';
import { createProgress } from '../src/progress.js';
import { makeTinyModel, tinyConfig } from './tiny-run.js';

const quiet = createProgress(process.stderr, true);

async function greedy(m: LoadedModel, prompts: string[]): Promise<string[]> {
  const engine = new LocalEngine(m.model, m.tokenizer, { maxBatchSize: 8 });
  const out = await engine.generate({ prompts, temperature: 0, maxNewTokens: 12 });
  return out.map((c) => c[0]!.text);
}

describe('runIterativeRpo with training.lora (1 iteration, tiny model)', () => {
  it('writes the adapter in PEFT layout and the merged model; the adapter on M0 generates as the merged model', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irpo-lora-run-'));
    const m0 = await makeTinyModel(join(root, 'm0'));
    const out = join(root, 'run');
    const config = tinyConfig(m0, {
      iterations: 1,
      training: {
        lr: 1e-2,
        batchSize: 4,
        checkpointEvery: 2,
        maxGradNorm: 1,
        lora: { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'up_proj'] },
      },
    });
    await runIterativeRpo(config, { out, progress: quiet });
    expect((await readJsonFile(join(out, 'state.json'), RunStateSchema)).complete).toBe(true);

    const adapterDir = join(out, 'iter-1', 'adapter');
    const peft = JSON.parse(await readFile(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(peft.peft_type).toBe('LORA');
    expect(peft.r).toBe(4);
    expect(peft.lora_alpha).toBe(8);
    expect(peft.base_model_name_or_path).toBe(m0);
    expect([...(peft.target_modules as string[])].sort()).toEqual(['q_proj', 'up_proj', 'v_proj']);
    const tensors = await readSafetensors(join(adapterDir, 'adapter_model.safetensors'));
    const names = [0, 1].flatMap((l) =>
      [`self_attn.q_proj`, `self_attn.v_proj`, `mlp.up_proj`].flatMap((m) =>
        ['A', 'B'].map((ab) => `base_model.model.model.layers.${l}.${m}.lora_${ab}.weight`),
      ),
    );
    expect([...tensors.keys()].sort()).toEqual(names.sort());
    // B starts at zero: training moved it.
    expect(Array.from(tensors.get(names.find((n) => n.includes('lora_B'))!)!.data).some((x) => x !== 0)).toBe(true);
    expect(existsSync(join(out, 'iter-1', 'adapter.tmp'))).toBe(false);
    expect(existsSync(join(out, 'iter-1', 'checkpoint'))).toBe(false);

    // iter-1/model is an ordinary checkpoint (no adapter tensors), and differs from M0.
    const merged = await loadModel(join(out, 'iter-1', 'model'));
    expect([...merged.model.variables.keys()].some((k) => k.includes('lora'))).toBe(false);
    const base = await loadModel(m0);
    expect(await hashWeights(merged.model.variables)).not.toBe(await hashWeights(base.model.variables));
    const prompts = ['3+4=', '12*3-5=', '7+8=', '9-2*3='];
    const fromBase = await greedy(base, prompts);
    await loadLoraAdapter(adapterDir, base.model);
    const fromAdapter = await greedy(base, prompts);
    const fromMerged = await greedy(merged, prompts);
    expect(fromAdapter).toEqual(fromMerged);
    expect(fromMerged).not.toEqual(fromBase);
    base.model.dispose();
    merged.model.dispose();
  }, 240_000);
});
