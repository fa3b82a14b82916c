import os from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { WasmSetup } from './setup.js';
import { MAX_WASM_THREADS, wasmThreadCount } from './wasm-threads.js';

const loader = new URL('../../../tools/test-support/ts-loader.mjs', import.meta.url).href;
const child = fileURLToPath(new URL('../test/threads-child.ts', import.meta.url));

interface ChildOut {
  threads: number;
  setup: WasmSetup;
  value: number;
  ga: string;
  gb: string;
  small: string;
  bigTail: number[];
}

/** Runs the child with `threads`; resolves when it exits by itself (the pool must not keep it alive). */
function runChild(threads: number): Promise<ChildOut> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--conditions=@irpo/source', '--import', loader, child, String(threads)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Only a guard against a pool that keeps the child alive: generous, so that a loaded machine
    // (a child took 86 s at a load average of 20 on 2 cores) does not fail it.
    const timer = setTimeout(() => p.kill('SIGKILL'), 240_000);
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
    expect(one.setup.threads).toBe(1);
    expect(one.setup.threadsNote).toBe('threads 1');
    expect(one.setup.smallOpsSequential).toBe(false);
    expect(two.threads).toBe(2);
    expect(two.setup.threads).toBe(2);
    expect(two.setup.threadsNote).toBe('threads 2 (XNNPACK pool in worker_threads; small ops without it)');
    expect(two.setup.smallOpsSequential).toBe(true);
    expect(two.setup.reasons).toEqual([
      'SIMD on',
      'threads 2 (XNNPACK pool in worker_threads; small ops without it)',
      'heap guard on (a full heap throws WasmHeapError)',
      `kernels: ${two.setup.kernels.length} registered`,
    ]);
    expect(two.setup.kernels).toContain('all kernels (wasm: small ops run without the thread pool)');
    expect(one.setup.kernels).not.toContain('all kernels (wasm: small ops run without the thread pool)');
    // XNNPACK splits a matmul's output tiles between threads, never a dot product's terms.
    expect(two.value).toBe(one.value);
    expect(two.ga).toBe(one.ga);
    expect(two.gb).toBe(one.gb);
    expect(two.small).toBe(one.small);
    expect(Number.isFinite(two.value) && two.value > 0).toBe(true);
    // A 256 MB tensor read back after the shared heap grew: the views follow the new buffer.
    expect(two.bigTail).toEqual([1.5, 1.5, 2.5, 2.5]);
  }, 600_000);

  it('thread count: requested, else the cores Node may use, capped at 8; a bad value is a RangeError', () => {
    expect(MAX_WASM_THREADS).toBe(8);
    expect(wasmThreadCount(3)).toBe(3);
    expect(wasmThreadCount(1)).toBe(1);
    expect(wasmThreadCount(64)).toBe(8);
    const byDefault = wasmThreadCount();
    expect(byDefault >= 1 && byDefault <= 8).toBe(true);
    if (os.cpus().length === 1) expect(byDefault).toBe(1);
    expect(() => wasmThreadCount(0)).toThrow(RangeError);
    expect(() => wasmThreadCount(0)).toThrow('threads: expected a whole number ≥ 1, got 0');
    expect(() => wasmThreadCount(2.5)).toThrow('threads: expected a whole number ≥ 1, got 2.5');
  });
});
