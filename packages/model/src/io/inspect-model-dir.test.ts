import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, hasShared, NO_SHARED, sharedDir } from '../../test/fixture-paths.js';
import { inspectModelDir } from './inspect-model-dir.js';

describe('inspectModelDir', () => {
  it('reads dtypes from sharded headers without loading weights', async () => {
    const info = await inspectModelDir(fixtureDir('qwen2-bias'));
    expect(info.architecture).toBe('Qwen2ForCausalLM');
    expect(info.dtypes).toEqual(['F16']);
    // F16: 2 bytes per parameter.
    expect(info.weightBytesOnDisk).toBe(2 * info.parameters);
  });

  it.skipIf(!hasShared)(`works from config.json alone (SmolLM2-135M) ${NO_SHARED}`, async () => {
    const info = await inspectModelDir(join(sharedDir, 'tokenizers', 'SmolLM2-135M-Instruct'), 2, 128);
    expect(info.parameters).toBe(134_515_008);
    expect(info.dtypes).toEqual([]);
    expect(info.memory.batch).toBe(2);
  });
});
