import { UsageError } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.js';

describe('parseBenchArgs', () => {
  it('defaults to every phase of tiny on wasm with one warm-up', () => {
    expect(parseBenchArgs([])).toEqual({
      config: 'tiny',
      phases: ['train', 'reflogp', 'sample'],
      backend: 'wasm',
      warmup: 1,
      runtimes: ['tfjs'],
      runtimeGiven: false,
    });
  });

  it('reads separate and inline values, and a phase list', () => {
    const a = parseBenchArgs(['--config', 'small', '--phase=train,sample', '--backend', 'cpu', '--reps', '9', '--warmup=0']);
    expect(a).toEqual({
      config: 'small',
      phases: ['train', 'sample'],
      backend: 'cpu',
      reps: 9,
      warmup: 0,
      runtimes: ['tfjs'],
      runtimeGiven: false,
    });
    expect(parseBenchArgs(['--runtime', 'onnx,tfjs'])).toMatchObject({ runtimes: ['onnx', 'tfjs'], runtimeGiven: true });
    expect(() => parseBenchArgs(['--runtime', 'ort'])).toThrow(/--runtime: unknown 'ort'/);
    expect(parseBenchArgs(['--phase', 'all']).phases).toEqual(['train', 'reflogp', 'sample']);
    expect(parseBenchArgs(['--config', 'smollm360', '--lora', '16'])).toMatchObject({ config: 'smollm360', lora: 16 });
    expect(() => parseBenchArgs(['--lora', '0'])).toThrow(/--lora: expected an integer ≥ 1/);
  });

  it('rejects unknown configs, phases, flags and bad counts with a usage error', () => {
    expect(() => parseBenchArgs(['--config', 'huge'])).toThrow(/--config: unknown 'huge'/);
    expect(() => parseBenchArgs(['--phase', 'train,eval'])).toThrow(/--phase: unknown 'eval'/);
    expect(() => parseBenchArgs(['--reps', '0'])).toThrow(/--reps: expected an integer ≥ 1/);
    expect(() => parseBenchArgs(['--reps'])).toThrow(/needs a value/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(UsageError);
  });
});
