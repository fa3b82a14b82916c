import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfigSchema } from '@irpo/contracts';
import { floatToBf16Bits, parseSafetensorsHeader } from '@irpo/model';
import { describe, expect, it } from 'vitest';
import { DEMO_ARITH, DEMO_BASE_DIR } from '../src/demo.js';
import { runIterativeRpo } from '../src/iterative-rpo.js';
import { createProgress } from '../src/progress.js';

const quiet = createProgress(process.stderr, true);

/** Raw tensors of a single-file checkpoint: name → [dtype, bytes]. */
async function rawTensors(dir: string): Promise<Map<string, { dtype: string; bytes: Uint8Array }>> {
  const buf = new Uint8Array(await readFile(join(dir, 'model.safetensors')));
  const { header, dataStart } = parseSafetensorsHeader(buf, dir);
  const out = new Map<string, { dtype: string; bytes: Uint8Array }>();
  for (const [name, e] of Object.entries(header))
    out.set(name, { dtype: e.dtype, bytes: buf.slice(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]) });
  return out;
}

describe('training.saveDtype', () => {
  it(
    "auto saves the shipped bfloat16 base's M1 as bfloat16: the trained float32 weights rounded, config and generation config to match",
    { timeout: 300_000 },
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'irpo-dtype-'));
      const m0 = join(root, 'm0');
      await cp(DEMO_BASE_DIR, m0, { recursive: true });
      const generation = { bos_token_id: 1, eos_token_id: 2, temperature: 0.7, repetition_penalty: 1.05 };
      await writeFile(join(m0, 'generation_config.json'), JSON.stringify(generation));
      const config = (saveDtype: 'auto' | 'float32') =>
        RunConfigSchema.parse({
          seed: 2,
          model: m0,
          backend: 'wasm',
          task: { name: 'arith', trainLimit: 24, testLimit: 4, goldAsWinner: true, arith: DEMO_ARITH },
          iterations: 1,
          iteration: { n: 4, k: 2, temperature: 1, maxNewTokens: 40, epochs: 1 },
          training: { lr: 1e-3, batchSize: 8, saveDtype },
          eval: { maxNewTokens: 8 },
        });
      await runIterativeRpo(config('float32'), { out: join(root, 'f32'), progress: quiet });
      await runIterativeRpo(config('auto'), { out: join(root, 'auto'), progress: quiet });
      const f32Dir = join(root, 'f32', 'iter-1', 'model');
      const bf16Dir = join(root, 'auto', 'iter-1', 'model');

      const cfg = (dir: string) => readFile(join(dir, 'config.json'), 'utf8').then((t) => JSON.parse(t) as { torch_dtype: string });
      expect((await cfg(m0)).torch_dtype).toBe('bfloat16');
      expect((await cfg(bf16Dir)).torch_dtype).toBe('bfloat16');
      expect((await cfg(f32Dir)).torch_dtype).toBe('float32');
      for (const dir of [f32Dir, bf16Dir])
        expect(JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8'))).toEqual(generation);

      const f32 = await rawTensors(f32Dir);
      const bf16 = await rawTensors(bf16Dir);
      expect([...bf16.keys()].sort()).toEqual([...f32.keys()].sort());
      let moved = 0;
      for (const [name, { dtype, bytes }] of f32) {
        expect(dtype).toBe('F32');
        const b = bf16.get(name)!;
        expect(b.dtype, name).toBe('BF16');
        const want = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        const got = new Uint16Array(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength / 2);
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          if (got[i] !== floatToBf16Bits(want[i]!)) expect.fail(`${name}[${i}]: ${got[i]} is not bf16(${want[i]})`);
          if ((want[i]! & 0xffff) !== 0) moved++; // trained values are off the bf16 grid M0 was on
        }
      }
      expect(moved).toBeGreaterThan(1000);
    },
  );
});
