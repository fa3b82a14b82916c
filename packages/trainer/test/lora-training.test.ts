import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@irpo/core';
import { readSafetensors } from '@irpo/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapted, LORA_NAMES, trainLora, values } from './lora-setup.js';

const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const child = fileURLToPath(new URL('./lora-child.ts', import.meta.url));

beforeAll(async () => {
  await initBackend('cpu');
});

/** Runs lora-child.ts; with `stopAfter`, SIGKILLs it when it prints that it stopped there. */
function runChild(
  dir: string,
  stopAfter?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = ['--conditions=@irpo/source', '--import', loader, child, dir, ...(stopAfter === undefined ? [] : [String(stopAfter)])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes(`stopped ${stopAfter}\n`)) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

interface ChildResult {
  steps: { step: number; training: boolean }[];
  training: boolean;
  lora: Record<string, number[]>;
  all: Record<string, number[]>;
}

describe('preference training with a LoRA adapter attached', () => {
  it('updates only A and B, in training mode; the resume checkpoint holds only them; a fresh process resumes to the same adapter', async () => {
    const model = adapted();
    expect(Object.keys(await values(model.trainableVariables)).sort()).toEqual([...LORA_NAMES].sort());
    const base0 = await values(model.variables);
    const lora0 = await values(model.trainableVariables);
    const dir = await mkdtemp(join(tmpdir(), 'irpo-lora-'));
    const seen: boolean[] = [];
    await trainLora(model, dir, () => void seen.push(model.training));
    expect(seen).toEqual([true, true, true, true]);
    expect(model.training).toBe(false);
    // The base is frozen: bit-identical, weight decay included.
    expect(await values(model.variables)).toEqual(base0);
    const lora1 = await values(model.trainableVariables);
    for (const name of LORA_NAMES) {
      const before = lora0[name]!;
      const after = lora1[name]!;
      if (name.includes('lora_B')) expect(before.every((x) => x === 0)).toBe(true);
      expect(
        after.some((x, i) => x !== before[i]),
        name,
      ).toBe(true);
    }
    model.dispose();

    // A process killed after step 3 (its last resume checkpoint: step 2) ...
    const crashDir = await mkdtemp(join(tmpdir(), 'irpo-lora-'));
    const killed = await runChild(crashDir, 3);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const pointer = JSON.parse(await readFile(join(crashDir, 'ckpt', 'checkpoint.json'), 'utf8')) as { dir: string; step: number };
    expect(pointer.step).toBe(2);
    const weights = await readSafetensors(join(crashDir, 'ckpt', pointer.dir, 'weights.safetensors'));
    expect([...weights.keys()].sort()).toEqual([...LORA_NAMES].sort());
    const moments = await readSafetensors(join(crashDir, 'ckpt', pointer.dir, 'optimizer.safetensors'));
    expect([...moments.keys()].sort()).toEqual(LORA_NAMES.flatMap((n) => [`${n}.exp_avg`, `${n}.exp_avg_sq`]).sort());

    // ... and a fresh process that resumes from its checkpoint: steps 3 and 4 only, the same adapter
    // as the uninterrupted run, the base untouched.
    const resumed = await runChild(crashDir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(await readFile(join(crashDir, 'result.json'), 'utf8')) as ChildResult;
    expect(result.steps).toEqual([
      { step: 3, training: true },
      { step: 4, training: true },
    ]);
    expect(result.training).toBe(false);
    expect(result.lora).toEqual(lora1);
    expect(result.all).toEqual(base0);
  }, 240_000); // three trainings, two of them in child processes
});
