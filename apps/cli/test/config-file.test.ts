import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterationSettings } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../src/config-file.js';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'irpo-cfg-'));
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('loadRunConfig', () => {
  it('reads YAML and applies --set overrides', async () => {
    const p = await file('c.yaml', 'iterations: 3\ntraining:\n  beta: 0.2\n');
    const c = await loadRunConfig(p, ['training.alpha=0', 'task.name=gsm8k', 'iteration.temperature=1.3']);
    expect(c.iterations).toBe(3);
    expect(c.training.beta).toBe(0.2);
    expect(c.training.alpha).toBe(0);
    expect(c.task.name).toBe('gsm8k');
    expect(c.iteration.temperature).toBe(1.3);
    expect(c.training.lr).toBe(1e-6); // default kept
  });

  it('rejects an unknown key, naming file and key', async () => {
    const p = await file('c.yaml', 'training:\n  betta: 0.2\n');
    await expect(loadRunConfig(p)).rejects.toThrow(`${p}: training.betta: unknown key "betta"`);
  });

  it('rejects a bad value, naming the field', async () => {
    const p = await file('c.json', JSON.stringify({ iterations: 0 }));
    await expect(loadRunConfig(p)).rejects.toThrow(`${p}: iterations: `);
  });

  it("reads a run's run.json: the resolved config under `config` (training.launch passes it as {config})", async () => {
    const p = await file(
      'run.json',
      // resolved: every default is there, eval.temperature with majK 0 too (refused only when written)
      JSON.stringify({
        config: { iterations: 2, training: { beta: 0.3 }, eval: { majK: 0, temperature: 0.8 } },
        recipe: 'iterative-rpo/dpo-nll',
        node: '22',
      }),
    );
    const c = await loadRunConfig(p, ['training.alpha=0.5']);
    expect([c.iterations, c.training.beta, c.training.alpha]).toEqual([2, 0.3, 0.5]);
  });

  it('refuses a setting that does nothing in this run, naming the field and why', async () => {
    const p = await file('ipo.yaml', 'training:\n  loss: ipo\n  labelSmoothing: 0.1\n');
    await expect(loadRunConfig(p)).rejects.toThrow(`${p}: training.labelSmoothing: has no effect here: training.loss ipo`);
    await expect(loadRunConfig(undefined, ['task.template=t.txt'])).rejects.toThrow(
      '--set: task.template: has no effect here: the arith task has its own compact prompt',
    );
  });

  it('reports YAML syntax errors with the line', async () => {
    const p = await file('c.yaml', 'iterations: 3\ntraining: [\n');
    await expect(loadRunConfig(p)).rejects.toThrow(/c\.yaml:\d+: not valid YAML/);
  });
});

describe('examples/*.yaml', () => {
  it('the vLLM example parses: a launched http engine with its command template', async () => {
    const c = await loadRunConfig(new URL('../../../examples/gsm8k-vllm.yaml', import.meta.url).pathname);
    expect(c.engine.kind).toBe('http');
    expect(c.engine.launch).toBe(
      'vllm serve {model} --port {port} --seed {seed} --served-model-name m --max-model-len 2048 --dtype auto --generation-config auto',
    );
    expect(c.engine.endpoints).toBeUndefined();
    // The paper's GSM8K schedule: 0.8 for iterations 1-2, 1.3 for iterations 3-4.
    expect([1, 2, 3, 4].map((t) => iterationSettings(c, t).temperature)).toEqual([0.8, 0.8, 1.3, 1.3]);
    expect(c.prompt.format).toBe('auto');
    expect(c.engine.api).toBeUndefined(); // follows the prompt format: chat for the Instruct model
  });

  it('the TRL and OpenRLHF examples parse: training.launch with the placeholders irpo fills in', async () => {
    for (const name of ['gsm8k-trl', 'gsm8k-openrlhf']) {
      const c = await loadRunConfig(new URL(`../../../examples/${name}.yaml`, import.meta.url).pathname);
      expect(c.training.launch, name).toContain('{model}');
      expect(c.training.launch, name).toContain('{out}');
      expect(c.training.launch, name).toMatch(/\{alpha\}/); // the NLL weight reaches the trainer
      expect(c.training.pairsFormat, name).toBeUndefined(); // conversational for the chat model
      expect(c.engine.launch, name).toMatch(/^vllm serve /);
    }
  });
});
