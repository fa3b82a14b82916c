import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { irpo } from './irpo-bin.js';
import { describe, expect, it } from 'vitest';

const smol = fileURLToPath(new URL('../../../../shared/tokenizers/SmolLM2-135M-Instruct', import.meta.url));
const fixture = fileURLToPath(new URL('../../../packages/model/test/fixtures/llama-tied', import.meta.url));

describe('irpo model inspect', () => {
  it.skipIf(!existsSync(smol))(
    'prints SmolLM2-135M parameters and a memory estimate (skipped: ../shared tokenizers are not beside the repository)',
    () => {
      const r = irpo('model', 'inspect', smol);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('LlamaForCausalLM');
      expect(r.stdout).toContain('134,515,008');
      expect(r.stdout).toMatch(/memory\s+[\d.]+ GiB to train batch 1 × 512/);
    },
  );

  it('--json gives one document with dtype and memory', () => {
    const r = irpo('model', 'inspect', fixture, '--json', '--batch', '2', '--length', '16');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { dtypes: string[]; parameters: number; memory: { batch: number; totalBytes: number } };
    expect(info.dtypes).toEqual(['BF16']);
    expect(info.memory.batch).toBe(2);
    // Weights + grads + AdamW moments alone are 16 bytes per parameter.
    expect(info.memory.totalBytes).toBeGreaterThan(16 * info.parameters);
  });

  it('a directory without config.json fails with one line naming the file', () => {
    const r = irpo('model', 'inspect', '/nonexistent-dir');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent-dir/config.json');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
