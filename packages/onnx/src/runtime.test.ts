import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadOrt, ortThreads } from './runtime.js';

describe('loadOrt', () => {
  it('loads onnxruntime-node when it is installed', async () => {
    const s = await loadOrt();
    expect(s.ok).toBe(true);
    if (s.ok) expect(s.version).toMatch(/^\d+\.\d+/);
  });

  it('says why when the package is absent (npm dropped the optional dependency)', async () => {
    const err = Object.assign(new Error("Cannot find package 'onnxruntime-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const s = await loadOrt(() => Promise.reject(err));
    expect(s).toEqual({ ok: false, reason: expect.stringContaining('not installed') });
  });

  it('says why when the native binding fails to load', async () => {
    const s = await loadOrt(() => Promise.reject(new Error('libonnxruntime.so.1: cannot open shared object file\nstack')));
    expect(s).toEqual({ ok: false, reason: 'onnxruntime-node failed to load: libonnxruntime.so.1: cannot open shared object file' });
  });
});

describe('ortThreads', () => {
  it('honours a count, then IRPO_THREADS (--threads), and defaults to one per core', () => {
    const before = process.env['IRPO_THREADS'];
    try {
      delete process.env['IRPO_THREADS'];
      expect(ortThreads(3)).toBe(3);
      expect(ortThreads()).toBe(availableParallelism());
      process.env['IRPO_THREADS'] = '5';
      expect(ortThreads()).toBe(5);
      expect(ortThreads(2)).toBe(2);
    } finally {
      if (before === undefined) delete process.env['IRPO_THREADS'];
      else process.env['IRPO_THREADS'] = before;
    }
  });
});
