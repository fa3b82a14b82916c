import { mkdtemp, readFile, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@irpo/core';
import { ModelSpecSchema } from '@irpo/contracts';
import { createModel } from '../llama/create-model.js';
import { CharTokenizer } from '../tokenizer/char-tokenizer.js';
import { fixtureDir, IO_TEST_SPEC, parseSafetensorsHeader } from '../../test/fixture-paths.js';
import { loadCheckpoint } from './checkpoint.js';
import { loadModel, saveModel } from './model-dir.js';
import { encodeSafetensors } from './safetensors.js';

let root = '';
beforeAll(async () => {
  await initBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'irpo-ckpt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const spec = ModelSpecSchema.parse(IO_TEST_SPEC);

describe('saveModel / loadModel', () => {
  it.each(['F32', 'BF16', 'F16'] as const)(
    '%s: save then load reproduces every weight (exact / within bf16 or f16 rounding)',
    async (dtype) => {
      const model = createModel(spec, { seed: 3, initStd: 0.5 });
      const tok = new CharTokenizer('abcdefghijklmnop');
      const dir = join(root, dtype);
      await saveModel(dir, model, tok, { dtype });
      const buf = await readFile(join(dir, 'model.safetensors'));
      const header = parseSafetensorsHeader(buf);
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      expect(names.sort()).toEqual([...model.variables.keys()].sort());
      expect(names).not.toContain('lm_head.weight');
      expect(header['model.layers.1.self_attn.k_proj.weight']).toMatchObject({ dtype, shape: [8, 16] });
      const last = Math.max(...names.map((k) => header[k]!.data_offsets[1]));
      expect(8 + Number(buf.readBigUInt64LE(0)) + last).toBe(buf.length);

      const { model: back, tokenizer, spec: spec2 } = await loadModel(dir);
      expect(spec2).toEqual({ ...spec, headDim: 4 });
      expect(tokenizer.encode('abc')).toEqual(tok.encode('abc'));
      for (const [name, v] of model.variables) {
        const a = await v.data();
        const b = await back.variables.get(name)!.data();
        for (let i = 0; i < a.length; i++) {
          if (dtype === 'F32') expect(b[i]).toBe(a[i]);
          // bf16 keeps 8 significant bits (7 stored): round-to-nearest errs by ≤ half an ulp = 2^-8 · 2^exponent ≤ 2^-8·|a|.
          else if (dtype === 'BF16') expect(Math.abs(b[i]! - a[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * 2 ** -8);
          // f16 keeps 11 (10 stored): ≤ 2^-11·|a| for normal values, ≤ half the subnormal step 2^-25 below 2^-14.
          else expect(Math.abs(b[i]! - a[i]!)).toBeLessThanOrEqual(Math.max(Math.abs(a[i]!) * 2 ** -11, 2 ** -25));
        }
      }
      model.dispose();
      back.dispose();
    },
  );
});

describe('checkpoint errors', () => {
  async function brokenCopy(name: string, edit: (buf: Buffer) => Buffer): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    await copyFile(join(fixtureDir('llama-gqa'), 'config.json'), join(dir, 'config.json'));
    await writeFile(join(dir, 'model.safetensors'), edit(await readFile(join(fixtureDir('llama-gqa'), 'model.safetensors'))));
    return dir;
  }

  it('truncated file names the tensor that runs past the end', async () => {
    const dir = await brokenCopy('truncated', (b) => b.subarray(0, b.length - 100));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model.safetensors: model.norm.weight: truncated file/);
  });

  it('header larger than the file', async () => {
    const dir = await brokenCopy('header', (b) => b.subarray(0, 200));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/header length \d+ is larger than the file \(200 bytes\)/);
  });

  it('missing tensor and shape mismatch name the tensor and both shapes', async () => {
    const { decodeSafetensors } = await import('./safetensors.js');
    const src = join(fixtureDir('llama-gqa'), 'model.safetensors');
    const tensors = decodeSafetensors(new Uint8Array(await readFile(src)), src);
    tensors.delete('model.layers.1.mlp.up_proj.weight');
    const d1 = await brokenCopy('missing', () => Buffer.from(encodeSafetensors(tensors, 'F32')));
    await expect(loadCheckpoint(d1)).rejects.toThrow(/model.layers.1.mlp.up_proj.weight: tensor is missing/);
    tensors.set('model.layers.1.mlp.up_proj.weight', { shape: [32, 48], data: new Float32Array(32 * 48) });
    const d2 = await brokenCopy('shape', () => Buffer.from(encodeSafetensors(tensors, 'F32')));
    await expect(loadCheckpoint(d2)).rejects.toThrow(/up_proj.weight: shape mismatch: file has \[32, 48\], config.json implies \[48, 32\]/);
  });

  it('an unsupported architecture in config.json is named', async () => {
    const dir = join(root, 'arch');
    await mkdir(dir, { recursive: true });
    const cfg = JSON.parse(await readFile(join(fixtureDir('llama-gqa'), 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, architectures: ['PhiForCausalLM'] }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/config.json: architectures: architecture PhiForCausalLM is not supported/);
  });
});
