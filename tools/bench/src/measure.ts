import { tf } from '@irpo/core';
import type { PhaseRun } from './phases.js';

export interface Timing {
  median_ms: number;
  min_ms: number;
  times_ms: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `warmup` untimed steps, then `reps` timed ones; checks the step leaks no tensors. */
export async function timeSteps(run: PhaseRun, reps: number, warmup: number): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await run.step();
  const tensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run.step();
    times.push(performance.now() - t0);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked > 0) throw new Error(`${leaked} tensors leaked over ${reps} steps`);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { median_ms: round(median(times)), min_ms: round(Math.min(...times)), times_ms: times.map(round) };
}

/** Peak resident set of this process (MiB) and the wasm heap's size (MiB; it only grows, so it is its peak). */
export function memoryPeaks(): { rss_mb: number; wasm_heap_mb: number | null } {
  const rss = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  const heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength;
  return { rss_mb: Math.round(rss), wasm_heap_mb: heap === undefined ? null : Math.round(heap / 2 ** 20) };
}

/** glibc allocator settings from the environment (they change page-fault counts, hence speed). */
export function mallocEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES') as [string, string][],
  );
}
