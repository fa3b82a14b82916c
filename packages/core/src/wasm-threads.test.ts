import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@irpo/contracts';
import { describe, expect, it } from 'vitest';
import { wasmThreadCount } from './wasm-threads.js';

const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const child = fileURLToPath(new URL('../test/threads-child.ts', import.meta.url));

interface ChildOut {
  threads: number;
  reason: string;
  value: number;
  ga: string;
  gb: string;
  small: string;
  bigTail: number[];
}

/** Runs the child with IRPO_THREADS=n; resolves when it exits by itself (the pool must not keep it alive). */
function runChild(threads: number): Promise<ChildOut> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--conditions=@irpo/source', '--import', loader, child], {
      env: { ...process.env, IRPO_THREADS: String(threads), IRPO_BACKEND: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 50_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`child (threads ${threads}) exited ${code ?? signal}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildOut);
    });
  });
}

describe('wasm backend with a thread pool', () => {
  it('runs 2 threads in Node, gives bit-identical matmul values and gradients to 1 thread, and exits by itself', async () => {
    const one = await runChild(1);
    const two = await runChild(2);
    expect(one.threads).toBe(1);
    expect(one.reason).toBe('wasm: chosen (SIMD on, threads 1)');
    expect(two.threads).toBe(2);
    expect(two.reason).toBe('wasm: chosen (SIMD on, threads 2 (XNNPACK pool in worker_threads; small ops without it))');
    // XNNPACK splits a matmul's output tiles between threads, never a dot product's terms.
    expect(two.value).toBe(one.value);
    expect(two.ga).toBe(one.ga);
    expect(two.gb).toBe(one.gb);
    expect(two.small).toBe(one.small);
    expect(Number.isFinite(two.value) && two.value > 0).toBe(true);
    // A 256 MB tensor read back after the shared heap grew: the views follow the new buffer.
    expect(two.bigTail).toEqual([1.5, 1.5, 2.5, 2.5]);
  });

  it('thread count: requested, else IRPO_THREADS, capped at 8; a bad value is a UsageError', () => {
    const saved = process.env.IRPO_THREADS;
    try {
      process.env.IRPO_THREADS = '3';
      expect(wasmThreadCount()).toBe(3);
      expect(wasmThreadCount(1)).toBe(1);
      expect(wasmThreadCount(64)).toBe(8);
      process.env.IRPO_THREADS = 'two';
      expect(() => wasmThreadCount()).toThrow(UsageError);
      expect(() => wasmThreadCount()).toThrow(/IRPO_THREADS: expected a whole number ≥ 1, got 'two'/);
      expect(() => wasmThreadCount(0)).toThrow(UsageError);
    } finally {
      if (saved === undefined) delete process.env.IRPO_THREADS;
      else process.env.IRPO_THREADS = saved;
    }
  });
});
